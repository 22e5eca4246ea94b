"""Options shared by commands, and the one place where settings are resolved.

Flags > environment (``MYNUMBER_*``) > settings file (``--config`` or ``MYNUMBER_CONFIG``) >
defaults: `core.settings.resolve_settings` applies that order; this module hands it the
flags the user typed and ``os.environ``. Nothing below the CLI reads the environment.
"""

from __future__ import annotations

import getpass
import os
from pathlib import Path
from typing import Any

import typer

from core.settings import Settings, resolve_settings
from pipeline.options import RunOptions, strip_ledger_password

ConfigOpt = typer.Option(None, "--config", help="Settings file (mynumber.toml); default $MYNUMBER_CONFIG.")
LedgerOpt = typer.Option(None, "--ledger",
                         help="Ledger database URL (default $MYNUMBER_LEDGER, the settings file, "
                              "else sqlite:///mynumber-data/ledger.db).")
KeyOpt = typer.Option(None, "--key",
                      help="Key file made by `mynumber keygen` (default $MYNUMBER_KEY_FILE, the settings "
                           "file, else mynumber-data/key.json).")
OperatorOpt = typer.Option(None, "--operator", help="Name recorded in the audit log (default: OS user).")
WorkersOpt = typer.Option(None, "--workers", min=1, help="Parallel render/QA processes (default 2).")
BatchOpt = typer.Option(None, "--batch-size", min=1, help="Envelopes per print batch (default 1000).")
RunnerOpt = typer.Option(None, "--task-runner", help="process (this machine), thread, or dask.")
DaskOpt = typer.Option(None, "--dask-address", help="Scheduler address of a running Dask cluster.")
SampleOpt = typer.Option(None, "--qr-sample", min=0, help="QR codes decoded per batch by in-run QA (default 20).")
EncodingOpt = typer.Option(None, "--encoding", help="Input encoding: utf-8, utf-8-sig or cp932 (default: detect).")
RuleOpt = typer.Option(None, "--resident-code-rule", help="Resident-code check: mod11 (default) or none.")


def load_settings(
    config: Path | None = None,
    *,
    ledger: str | None = None,
    key: str | os.PathLike[str] | None = None,
    operator: str | None = None,
    demo: bool = False,
    **sections: dict[str, Any],
) -> Settings:
    """Resolve the settings for one command from its flags and ``os.environ``."""
    flags: dict[str, dict[str, Any]] = {name: dict(values) for name, values in sections.items()}
    flags.setdefault("ledger", {})["url"] = ledger
    flags["ledger"]["operator"] = operator
    flags.setdefault("key", {})["ref"] = str(key) if key not in (None, "") else None
    settings = resolve_settings(flags, os.environ, config, demo=demo)
    if settings.ledger.operator == "unknown":
        settings = settings.with_changes(ledger={"operator": getpass.getuser()})
    # the password leaves the URL here, before any flow can record it as a parameter
    return settings.with_changes(ledger={"url": strip_ledger_password(settings.ledger.url, os.environ)})


def run_options(out: Path, settings: Settings) -> RunOptions:
    """The run options of a bulk or daily run writing into ``out``."""
    return RunOptions.of(settings, out)
