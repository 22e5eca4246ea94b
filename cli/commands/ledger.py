"""Ledger commands: `mynumber ledger init|stats|verify|export` and `mynumber reissue`.

Every command takes `--ledger URL` (or $MYNUMBER_LEDGER; default the SQLite file
mynumber-data/ledger.db) and `--operator` (recorded in the audit log; default the OS user).
Nothing printed here contains a My Number except the last four digits after a reissue.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.table import Table

from cli.options import ConfigOpt, KeyOpt, LedgerOpt, OperatorOpt, load_settings
from core.errors import LedgerError

if TYPE_CHECKING:
    from ledger import LedgerHandle

ledger_app = typer.Typer(help="The ledger of issued numbers: create, count, prove, export.",
                         no_args_is_help=True)
out = Console()


def _open(ledger_url: str | None, operator: str | None, config: Path | None = None, *,
          read_only: bool = False) -> LedgerHandle:
    """The ledger of the settings, its schema checked once; read-only commands refuse a
    ledger that does not exist (they never create an empty one and report on it)."""
    from ledger import open_ledger

    settings = load_settings(config, ledger=ledger_url, operator=operator)
    return open_ledger(settings.ledger.url, operator=settings.ledger.operator,
                       create=not read_only)


@ledger_app.command("init")
def init_cmd(ledger: str | None = LedgerOpt, operator: str | None = OperatorOpt) -> None:
    """Create the ledger, or upgrade its schema to what this program knows."""
    with _open(ledger, operator) as led, led.write() as w:
        revision = led.revision
        w.audit("init", f"schema revision {revision}", "ledger init")
    out.print(f"ledger ready at {led.url.render_as_string(hide_password=True)} "
              f"(schema revision {revision})")


@ledger_app.command("stats")
def stats_cmd(ledger: str | None = LedgerOpt, operator: str | None = OperatorOpt,
              as_json: bool = typer.Option(False, "--json", help="Print the counts as JSON.")) -> None:
    """Counts of numbers by status and reason, runs, events and mailings (never a number)."""
    from ledger import reporting

    with _open(ledger, operator, read_only=True) as led:
        stats = reporting.stats(led)
    if as_json:
        out.print_json(json.dumps(stats))
        return
    table = Table(title=f"ledger: {stats['numbers_total']} number row(s)")
    table.add_column("what")
    table.add_column("kind")
    table.add_column("count", justify="right")
    for status, reasons in stats["numbers"].items():
        for reason, n in reasons.items():
            table.add_row("numbers", f"{status} / {reason}", str(n))
    for section in ("runs", "events", "mailings"):
        for kind, n in stats[section].items():
            table.add_row(section, kind, str(n))
    table.add_row("registered mail", "allocated", str(stats["registered_mail_numbers_allocated"]))
    table.add_row("audit log", "entries", str(stats["audit_entries"]))
    out.print(table)


@ledger_app.command("verify")
def verify_cmd(ledger: str | None = LedgerOpt, operator: str | None = OperatorOpt,
               result: Path | None = typer.Option(
                   None, "--result", help="Also write the counts-only GX result as JSON here."),
               anchor: Path | None = typer.Option(
                   None, "--anchor", help="An audit head exported by `ledger audit-head`: the "
                   "chain must still contain it."),
               key: Path | None = typer.Option(
                   None, "--key", help="Also re-derive every number issued under this key "
                   "(key file or pkcs11: URI)."),
               config: Path | None = ConfigOpt,
               ) -> None:
    """Prove uniqueness (GX suite) and integrity (audit chain, triggers, revocations audited,
    key ids known, row count, and with --key re-derivation); exit 1 when anything fails."""
    from ledger.integrity import load_anchor
    from pipeline.stages.verify import verify_integrity
    from pipeline.stages.verify import verify_ledger as verify

    led = _open(ledger, operator, config, read_only=True)
    material = None
    if key is not None:
        from core.keys import open_key

        material = open_key(load_settings(config, key=key).key)
    head = None
    if anchor is not None:
        try:
            head = load_anchor(anchor.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as exc:
            raise LedgerError(f"cannot read the anchor {anchor}: {type(exc).__name__}") from None
    integrity = verify_integrity(led, anchor=head, key=material)
    outcome = verify(led, result_path=result)
    table = Table(title=f"GX ledger suite over {outcome.rows} row(s)")
    table.add_column("rule")
    table.add_column("verdict")
    table.add_column("unexpected", justify="right")
    for rule, r in outcome.rules.items():
        table.add_row(rule, "pass" if r["success"] else "[bold red]FAIL",
                      str(r["unexpected_count"]))
    out.print(table)
    itable = Table(title="integrity (tamper evidence)")
    itable.add_column("rule")
    itable.add_column("verdict")
    itable.add_column("problems", justify="right")
    itable.add_column("checked", justify="right")
    for rule, r in integrity.rules.items():
        itable.add_row(rule, "pass" if not r["problems"] else "[bold red]FAIL",
                       str(r["problems"]), str(r["checked"]))
    out.print(itable)
    if not (outcome.success and integrity.success):
        failed = [*outcome.failed_rules, *integrity.failed_rules]
        out.print(f"[bold red]ledger verify FAILED:[/] {', '.join(failed)}")
        raise typer.Exit(1)


@ledger_app.command("grant")
def grant_cmd(prefix: str = typer.Option("mynumber_", "--prefix",
                                         help="Role name prefix (role names are cluster-wide)."),
              ledger: str | None = LedgerOpt, operator: str | None = OperatorOpt) -> None:
    """PostgreSQL: create the least-privilege roles <prefix>issuer, print, qa, auditor and
    grant them their rights on this ledger (run as the ledger's owner; idempotent).

    Then make login accounts members, e.g. GRANT mynumber_print TO alice."""
    from ledger.roles import grant_roles

    with _open(ledger, operator) as led:
        names = grant_roles(led, prefix)
    out.print(f"roles ready: {', '.join(names)}")


@ledger_app.command("audit-head")
def audit_head_cmd(out_path: Path = typer.Option(..., "--out", help="JSON file to write (new)."),
                   ledger: str | None = LedgerOpt, operator: str | None = OperatorOpt) -> None:
    """Export the audit chain's head (entry count, last id and hash; no personal data).

    Keep it somewhere the database's administrators cannot write (another system, paper):
    `ledger verify --anchor FILE` then proves no entry up to it was changed or removed."""
    from ledger.integrity import export_head

    with _open(ledger, operator) as led:
        with led.write() as w:
            w.audit("audit_head", "audit head exported", "")
        head = export_head(led)
    try:
        with open(out_path, "x", encoding="utf-8") as fh:
            json.dump(head, fh, indent=2)
            fh.write("\n")
    except FileExistsError:
        raise LedgerError(f"{out_path} exists; refusing to overwrite it") from None
    out.print(f"audit head: {head['entries']} entries, last {head['audit_id']}, "
              f"hash {head['entry_hash']} → {out_path}")


@ledger_app.command("export")
def export_cmd(out_path: Path = typer.Option(..., "--out", help="Parquet file to write."),
               reason: str = typer.Option(..., "--reason",
                                          help="Why full numbers leave the ledger (audited)."),
               ledger: str | None = LedgerOpt, operator: str | None = OperatorOpt) -> None:
    """Export every number row (active and revoked) to parquet (mode 0600); audited with
    who, when, how many and why."""
    if out_path.suffix.lower() != ".parquet":
        raise LedgerError("--out must name a .parquet file")
    if not reason.strip():
        raise LedgerError("an export of full numbers needs --reason (it goes to the audit log)")
    from ledger import reporting

    with _open(ledger, operator, read_only=True) as led:
        rows = reporting.export(led, out_path, reason=reason)
    out.print(f"{rows} row(s) written to {out_path}")


@ledger_app.command("mail-range")
def mail_range_cmd(
    first: str = typer.Argument(..., help="First 10-digit body of the range (no check digit)."),
    last: str = typer.Argument(..., help="Last 10-digit body of the range (inclusive)."),
    ledger: str | None = LedgerOpt, operator: str | None = OperatorOpt,
) -> None:
    """Register a sender-printed 簡易書留 number range assigned by the post office."""
    if not (first.isascii() and first.isdigit() and last.isascii() and last.isdigit()):
        raise LedgerError("a range is given as two 10-digit numbers (without check digits)")
    from ledger import mailings

    with _open(ledger, operator) as led:
        range_id = mailings.add_range(led, int(first), int(last))
    out.print(f"range {range_id} added: {int(last) - int(first) + 1} numbers")


@ledger_app.command("audit")
def audit_cmd(ledger: str | None = LedgerOpt, operator: str | None = OperatorOpt,
              limit: int = typer.Option(30, "--limit", min=1, help="How many recent entries.")
              ) -> None:
    """Show the latest audit-log entries (when, who, what, why; no personal data)."""
    from ledger.reporting import recent_audit

    table = Table(title="audit log (newest first)")
    for col in ("when (UTC)", "who", "action", "subject", "run", "why"):
        table.add_column(col)
    with _open(ledger, operator, read_only=True) as led:
        rows = recent_audit(led, limit)
    for row in rows:
        table.add_row(f"{row['at']:%Y-%m-%d %H:%M:%S}", row["who"], row["action"], row["subject"],
                      row["run_id"] or "", row["why"])
    out.print(table)


def reissue_cmd(
    resident_code: str = typer.Argument(..., help="Resident code (11 digits) whose number changes."),
    reason: str = typer.Option(..., "--reason", help="Why (recorded in the audit log)."),
    key: Path | None = KeyOpt,
    ledger: str | None = LedgerOpt,
    operator: str | None = OperatorOpt,
    config: Path | None = ConfigOpt,
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation (scripts)."),
) -> None:
    """Change a resident's My Number (leak, misuse feared): revoke it and issue a new one.

    Asks for confirmation on a terminal; without one (a script, a pipe) it refuses unless
    --yes is given, because a changed number cannot be changed back.
    """
    import sys

    from core.errors import ConfigError
    from core.keys import open_key
    from ledger import numbers, open_ledger

    settings = load_settings(config, ledger=ledger, key=key, operator=operator)
    with open_ledger(settings.ledger.url, operator=settings.ledger.operator) as led:  # never creates one
        material = open_key(settings.key)
        if not yes:
            if not sys.stdin.isatty():
                raise ConfigError("reissue changes a resident's number for good: confirm on a terminal, "
                                  "or add --yes in a script")
            if not typer.confirm("Revoke this resident's number and issue a new one?", default=False):
                raise typer.Exit(1)
        result = numbers.reissue(led, resident_code, reason, material)
        out.print(f"number changed: generation {result.generation}, "
                  f"old ****{result.last4_old} revoked, new ****{result.last4_new} active; "
                  "its unmailed card is voided and the next daily run prints the new one "
                  "(`mynumber reconcile` lists a mailed or held card of the old number)")


def register(app: typer.Typer) -> None:
    """Attach `ledger` (group) and `reissue` to the CLI."""
    app.add_typer(ledger_app, name="ledger")
    app.command("reissue")(reissue_cmd)
