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
    from ledger import Ledger

ledger_app = typer.Typer(help="The ledger of issued numbers: create, count, prove, export.",
                         no_args_is_help=True)
out = Console()


def _open(ledger_url: str | None, operator: str | None, config: Path | None = None) -> Ledger:
    from ledger import Ledger

    settings = load_settings(config, ledger=ledger_url, operator=operator)
    return Ledger(settings.ledger.url, operator=settings.ledger.operator)


@ledger_app.command("init")
def init_cmd(ledger: str | None = LedgerOpt, operator: str | None = OperatorOpt) -> None:
    """Create the ledger, or upgrade its schema to what this program knows."""
    led = _open(ledger, operator)
    revision = led.init()
    led.audit("init", f"schema revision {revision}", "ledger init")
    out.print(f"ledger ready at {led.url.render_as_string(hide_password=True)} "
              f"(schema revision {revision})")


@ledger_app.command("stats")
def stats_cmd(ledger: str | None = LedgerOpt, operator: str | None = OperatorOpt,
              as_json: bool = typer.Option(False, "--json", help="Print the counts as JSON.")) -> None:
    """Counts of numbers by status and reason, runs, events and mailings (never a number)."""
    stats = _open(ledger, operator).stats()
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
                   None, "--result", help="Also write the counts-only GX result as JSON here.")
               ) -> None:
    """Prove uniqueness with the GX suite over the ledger table; exit 1 when it fails."""
    from pipeline.verify import verify_ledger as verify

    outcome = verify(_open(ledger, operator), result_path=result)
    table = Table(title=f"GX ledger suite over {outcome.rows} row(s)")
    table.add_column("rule")
    table.add_column("verdict")
    table.add_column("unexpected", justify="right")
    for rule, r in outcome.rules.items():
        table.add_row(rule, "pass" if r["success"] else "[bold red]FAIL",
                      str(r["unexpected_count"]))
    out.print(table)
    if not outcome.success:
        raise typer.Exit(1)


@ledger_app.command("export")
def export_cmd(out_path: Path = typer.Option(..., "--out", help="Parquet file to write."),
               ledger: str | None = LedgerOpt, operator: str | None = OperatorOpt) -> None:
    """Export every number row (active and revoked) to parquet; the export is audited."""
    if out_path.suffix.lower() != ".parquet":
        raise LedgerError("--out must name a .parquet file")
    rows = _open(ledger, operator).export(out_path)
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
    led = _open(ledger, operator)
    range_id = led.add_mail_number_range(int(first), int(last))
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
    for row in recent_audit(_open(ledger, operator), limit):
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
) -> None:
    """Change a resident's My Number (leak, misuse feared): revoke it and issue a new one."""
    from core.keys import load_key

    settings = load_settings(config, ledger=ledger, key=key, operator=operator)
    material = load_key(settings.key.ref)
    result = _open(ledger, operator, config).reissue(resident_code, reason, material)
    out.print(f"number changed: generation {result.generation}, "
              f"old ****{result.last4_old} revoked, new ****{result.last4_new} active; "
              "its unmailed card is voided and the next daily run prints the new one "
              "(`mynumber reconcile` lists a mailed or held card of the old number)")


def register(app: typer.Typer) -> None:
    """Attach `ledger` (group) and `reissue` to the CLI."""
    app.add_typer(ledger_app, name="ledger")
    app.command("reissue")(reissue_cmd)
