"""`mynumber keygen`: create a new derivation key file.

Prints the key id and the path, never the key. Registered by
`cli.commands.register_all` when ``"keys"`` is in ``COMMAND_MODULES``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cli.options import load_settings
from core.keys import generate_key_file


def keygen(
    path: Annotated[Path | None, typer.Argument(
        help="Where to write the new key file (default: $MYNUMBER_KEY_FILE, the settings file, "
             "else mynumber-data/key.json). "
             "An existing file is never overwritten.",
        show_default=False)] = None,
    demo: Annotated[bool, typer.Option(
        "--demo", help="Mark the key as a DEMO key (for the demo and samples only).")] = False,
) -> None:
    """Create a new AES-256 key file (JSON, mode 0600) and print its key id and path.

    Keep the file secret and backed up: without it no number can be derived again.
    The ledger records the key id with every number, never the key.
    """
    target = Path(load_settings(None, key=path).key.ref)
    key = generate_key_file(target, demo=demo)
    label = "DEMO key" if key.is_demo else "key"
    typer.echo(f"created {label} {key.key_id} at {target}")


def register(app: typer.Typer) -> None:
    """Attach ``keygen`` to the app."""
    app.command("keygen")(keygen)
