"""Command groups of the `mynumber` CLI, one module each, registered in this order."""

from __future__ import annotations

import importlib

import typer

#: modules under cli.commands that define `register(app: typer.Typer) -> None`
COMMAND_MODULES: tuple[str, ...] = ("run", "check", "ledger", "sample", "preview", "keys", "init",
                                   "mail")


def register_all(app: typer.Typer) -> None:
    """Attach every command module's commands to the app."""
    for name in COMMAND_MODULES:
        importlib.import_module(f"cli.commands.{name}").register(app)
