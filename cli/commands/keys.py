"""`mynumber keygen`: create a new derivation key file.

Prints the key id and the path, never the key. Registered by
`cli.commands.register_all` when ``"keys"`` is in ``COMMAND_MODULES``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cli.options import ConfigOpt, KeyOpt, LedgerOpt, OperatorOpt, load_settings
from core.keys import generate_key_file

key_app = typer.Typer(help="The derivation key and the ledger: list the keys, rotate.",
                      no_args_is_help=True)


def keygen(
    path: Annotated[Path | None, typer.Argument(
        help="Where to write the new key file (default: $MYNUMBER_KEY_FILE, the settings file, "
             "else mynumber-data/key.json). "
             "An existing file is never overwritten.",
        show_default=False)] = None,
    demo: Annotated[bool, typer.Option(
        "--demo", help="Mark the key as a DEMO key (for the demo and samples only).")] = False,
    pkcs11: Annotated[str | None, typer.Option(
        "--pkcs11", help="Generate the key inside a PKCS#11 token instead (RFC 7512 URI, "
        "e.g. 'pkcs11:token=mynumber;object=k-2026-12-01-3f9a1c'); non-extractable. Module and "
        "PIN file from settings (MYNUMBER_PKCS11_MODULE, MYNUMBER_PKCS11_PIN_FILE).",
        show_default=False)] = None,
    config: Path | None = ConfigOpt,
) -> None:
    """Create a new AES-256 key file (JSON, mode 0600) and print its key id and path.

    Keep the file secret and backed up: without it no number can be derived again.
    The ledger records the key id with every number, never the key.
    """
    if pkcs11 is not None:
        from core.hsm import generate_token_key

        if path is not None or demo:
            raise typer.BadParameter("--pkcs11 takes no PATH and no --demo (token keys are "
                                     "production keys)", param_hint="--pkcs11")
        opts = load_settings(config).key
        token_key = generate_token_key(pkcs11, module=opts.pkcs11_module, pin_file=opts.pin_file)
        typer.echo(f"created key {token_key.key_id} in the token (non-extractable); use "
                   f"--key 'pkcs11:...;object={token_key.key_id}'")
        return
    target = Path(load_settings(config, key=path).key.ref)
    key = generate_key_file(target, demo=demo)
    label = "DEMO key" if key.is_demo else "key"
    typer.echo(f"created {label} {key.key_id} at {target}")


@key_app.command("rotate")
def rotate(
    new_key: Annotated[Path, typer.Option(
        "--new-key", help="The key that derives numbers from now on (a key file or pkcs11: URI).")],
    reason: Annotated[str, typer.Option("--reason", help="Why (recorded in the audit log).")],
    key: Path | None = KeyOpt, ledger: str | None = LedgerOpt, operator: str | None = OperatorOpt,
    config: Path | None = ConfigOpt,
) -> None:
    """Make another key the ledger's current key (audited); needs the current key too.

    Consequences: numbers already issued keep their key id and stay valid; new numbers
    (first issue and changes) are derived with the new key; `ledger verify --key` re-derives
    only the rows of the key it is given; the retired key must be kept (and secret) as long
    as its numbers are to be re-derived, and is never made current again.
    """
    from core.keys import open_key
    from ledger import keys, open_ledger

    settings = load_settings(config, ledger=ledger, key=key, operator=operator)
    current = open_key(settings.key)
    new = open_key(load_settings(config, key=new_key).key)
    with open_ledger(settings.ledger.url, operator=settings.ledger.operator, create=True) as led:
        keys.rotate(led, current, new, reason)
    typer.echo(f"key {current.key_id} retired; key {new.key_id} is now current")


@key_app.command("list")
def list_keys(ledger: str | None = LedgerOpt, config: Path | None = ConfigOpt) -> None:
    """The keys the ledger has issued under: id, check value, DEMO, status, when, who."""
    from ledger import keys, open_ledger

    settings = load_settings(config, ledger=ledger)
    with open_ledger(settings.ledger.url, operator=settings.ledger.operator) as led:
        known = keys.known_keys(led)
    for row in known:
        typer.echo(f"{row['key_id']}\t{row['status']}\t{'DEMO' if row['is_demo'] else 'production'}"
                   f"\tkcv {row['check_value'] or '(not yet bound)'}\tregistered {row['registered_at']}"
                   f" by {row['registered_by']}"
                   + (f"\tretired {row['retired_at']} by {row['retired_by']}" if row['retired_at'] else ""))


def register(app: typer.Typer) -> None:
    """Attach ``keygen`` and the ``key`` group to the app."""
    app.command("keygen")(keygen)
    app.add_typer(key_app, name="key")
