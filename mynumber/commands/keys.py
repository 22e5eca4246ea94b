"""`mynumber keygen`: create a new derivation key file.

Prints the key id and the path, never the key. Registered by
`mynumber.commands.register_all` when ``"keys"`` is in ``COMMAND_MODULES``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from mynumber.keys import DEFAULT_KEY_PATH, KEY_ENV, generate_key_file, resolve_key_path


def keygen(
    path: Annotated[Optional[Path], typer.Argument(  # noqa: UP007 - typer needs Optional
        help=f"Where to write the new key file (default: ${KEY_ENV}, else {DEFAULT_KEY_PATH}). "
             "An existing file is never overwritten.",
        show_default=False)] = None,
    demo: Annotated[bool, typer.Option(
        "--demo", help="Mark the key as a DEMO key (for the demo and samples only).")] = False,
) -> None:
    """Create a new AES-256 key file (JSON, mode 0600) and print its key id and path.

    Keep the file secret and backed up: without it no number can be derived again.
    The ledger records the key id with every number, never the key.
    """
    target = resolve_key_path(path)
    key = generate_key_file(target, demo=demo)
    label = "DEMO key" if key.is_demo else "key"
    typer.echo(f"created {label} {key.key_id} at {target}")


def register(app: typer.Typer) -> None:
    """Attach ``keygen`` to the app."""
    app.command("keygen")(keygen)
