"""Commands for the people who handle the mail: `mynumber mail …`, `reconcile`, `reprint`.

Registered-mail numbers (引受番号) are given as arguments or one per line on standard input
(what a barcode scanner types), hyphens allowed; each is checked (check digit) and every
command is idempotent: scanning an envelope twice changes nothing the second time. Exit 0
when every envelope was in a state the command applies to, 1 when some were refused or
unknown (they are counted, never changed), 2 for unusable input.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from cli.options import ConfigOpt, LedgerOpt, OperatorOpt, load_settings, run_options
from core.errors import InputError, LedgerError
from pipeline.options import RunOptions

mail_app = typer.Typer(help="After the printer: hand-over, returns, counter, re-send, destruction.",
                       no_args_is_help=True)
out = Console()
JsonOpt = typer.Option(False, "--json", help="Print the result as JSON.")


P = ParamSpec("P")
R = TypeVar("R")


def db_errors(func: Callable[P, R]) -> Callable[P, R]:
    """A ledger that cannot be reached (or a driver error) is one line and exit 2, no traceback;
    the driver's message may quote values, so only its type is named."""

    @functools.wraps(func)
    def inner(*args: P.args, **kwargs: P.kwargs) -> R:
        import sqlalchemy as sa

        try:
            return func(*args, **kwargs)
        except sa.exc.DBAPIError as exc:
            raise LedgerError(f"the ledger could not be reached or refused the request "
                              f"({type(exc.orig).__name__ if exc.orig else type(exc).__name__})"
                              ) from None

    return inner


def _opts(ledger: str | None, operator: str | None, config: Path | None,
          folder: Path = Path(".")) -> RunOptions:
    from cli.logs import quiet_console_tracebacks

    quiet_console_tracebacks()
    return run_options(folder, load_settings(config, ledger=ledger, operator=operator))


def _numbers(values: list[str] | None) -> list[str]:
    """Arguments, or one number per line on standard input when none are given."""
    from mailroom.scans import parse_mail_numbers

    if not values:
        if sys.stdin is None or sys.stdin.isatty():
            raise InputError("give registered-mail numbers as arguments or on standard input",
                             field="registered_mail_number")
        values = sys.stdin.read().splitlines()
    return parse_mail_numbers(values)


def _report(result: dict[str, Any], as_json: bool = False) -> None:
    if as_json:
        out.print_json(json.dumps(result, default=str, ensure_ascii=False))
    else:
        table = Table(title=result.get("action", "result"))
        table.add_column("what")
        table.add_column("value", justify="right")
        for key, value in result.items():
            if key != "action" and not isinstance(value, list | dict):
                table.add_row(key.replace("_", " "), str(value))
        out.print(table)
    if result.get("notices_refused") or result.get("envelopes_unknown"):
        raise typer.Exit(1)


NumbersArg = typer.Argument(None, help="Registered-mail numbers (or one per line on stdin).")


@mail_app.command("handover")
@db_errors
def handover_cmd(
    batch_dirs: list[Path] = typer.Argument(..., help="Batch folders (passed QA), or a run's "
                                            "manual_manifest.csv for hand-made envelopes."),
    list_dir: Path | None = typer.Option(None, "--out", help="Where the hand-over list goes "
                                         "(default: RUN/handover next to the batches)."),
    ledger: str | None = LedgerOpt, operator: str | None = OperatorOpt, config: Path | None = ConfigOpt,
) -> None:
    """Write the post-office hand-over list (CSV and PDF) and mark the envelopes mailed."""
    from core.clock import SystemClock
    from mailroom.dispatch import handover

    first = batch_dirs[0].resolve()
    default = (first.parent if first.is_file() else first.parent.parent) / "handover"
    _report(handover(_opts(ledger, operator, config), batch_dirs, list_dir or default, SystemClock()))


@mail_app.command("made")
@db_errors
def made_cmd(numbers: list[str] | None = NumbersArg, ledger: str | None = LedgerOpt,
             operator: str | None = OperatorOpt, config: Path | None = ConfigOpt) -> None:
    """Hand-made envelopes (manual manifest) checked and sealed: ready for the hand-over."""
    from mailroom.scans import made_by_hand

    _report(made_by_hand(_opts(ledger, operator, config), _numbers(numbers)))


@mail_app.command("delivered")
@db_errors
def delivered_cmd(numbers: list[str] | None = NumbersArg,
                  mailed_before: str | None = typer.Option(
                      None, "--mailed-before", help="All envelopes mailed before this date "
                      "(YYYY-MM-DD) that never came back."),
                  ledger: str | None = LedgerOpt, operator: str | None = OperatorOpt,
                  config: Path | None = ConfigOpt) -> None:
    """Delivered: by tracking number, or everything mailed before a date and not returned."""
    from mailroom.scans import delivered
    from mailroom.scans import mailed_before as before

    opts = _opts(ledger, operator, config)
    if mailed_before:
        picked = before(opts, _date(mailed_before, "--mailed-before"))
        if not picked:
            out.print("nothing mailed before that date is still out")
            return
        _report(delivered(opts, picked))
    else:
        _report(delivered(opts, _numbers(numbers)))


@mail_app.command("returned")
@db_errors
def returned_cmd(numbers: list[str] | None = NumbersArg,
                 reason: str = typer.Option(..., "--reason", help="宛所不明, 受取拒否, 保管期間経過, …"),
                 location: str = typer.Option(..., "--location", help="The shelf it is held on."),
                 ledger: str | None = LedgerOpt, operator: str | None = OperatorOpt,
                 config: Path | None = ConfigOpt) -> None:
    """Envelopes that came back: recorded with the reason and held on a shelf."""
    from mailroom.scans import returned

    _report(returned(_opts(ledger, operator, config), _numbers(numbers), reason, location))


@mail_app.command("collect")
@db_errors
def collect_cmd(number: str = typer.Argument(..., help="Registered-mail number of the envelope."),
                id_document: str = typer.Option(..., "--id-document",
                                                help="Kind of identity document shown (never its number): "
                                                "mynumber_card, drivers_license, passport, residence_card, …"),
                ledger: str | None = LedgerOpt, operator: str | None = OperatorOpt,
                config: Path | None = ConfigOpt) -> None:
    """Handed over at the counter after checking identity."""
    from mailroom.scans import collect

    _report(collect(_opts(ledger, operator, config), _numbers([number])[0], id_document))


@mail_app.command("resend")
@db_errors
def resend_cmd(number: str = typer.Argument(..., help="Registered-mail number of a held envelope."),
               folder: Path = typer.Option(..., "--out", help="New folder for the one-envelope batch."),
               postal_code: str | None = typer.Option(None, "--postal-code", help="New postcode (7 digits)."),
               address: str | None = typer.Option(None, "--address", help="New address."),
               ledger: str | None = LedgerOpt, operator: str | None = OperatorOpt,
               config: Path | None = ConfigOpt) -> None:
    """Send a held envelope again: new registered-mail number, same cards, QA'd like any batch."""
    from mailroom.new_envelopes import resend

    result = resend(_opts(ledger, operator, config, folder), _numbers([number])[0],
                    postal_code=postal_code, address=address)
    _report(result)
    if result.get("qa", "pass") != "pass":
        raise typer.Exit(1)


@mail_app.command("destroy")
@db_errors
def destroy_cmd(held_before: str = typer.Option(..., "--held-before", help="Destroy what has been "
                                                "held since before this date (YYYY-MM-DD)."),
                list_dir: Path = typer.Option(Path("destruction"), "--out", help="Folder for the list."),
                ledger: str | None = LedgerOpt, operator: str | None = OperatorOpt,
                config: Path | None = ConfigOpt) -> None:
    """Destroy held cards after the retention period (mail.retention_months); audited list."""
    from core.clock import SystemClock
    from mailroom.retention import destroy

    _report(destroy(_opts(ledger, operator, config), _date(held_before, "--held-before"), list_dir,
                    SystemClock()))


@mail_app.command("status")
@db_errors
def status_cmd(as_json: bool = JsonOpt, ledger: str | None = LedgerOpt,
               operator: str | None = OperatorOpt, config: Path | None = ConfigOpt) -> None:
    """Notices by status and age, overdue holds, and the funnel."""
    from core.clock import SystemClock
    from mailroom.reconcile import status

    result = status(_opts(ledger, operator, config), SystemClock())
    if as_json:
        out.print_json(json.dumps(result, ensure_ascii=False))
        return
    table = Table(title="notices by status (age in the state)")
    for col in ("status", "count", "<7d", "7-29d", "30-89d", ">=90d"):
        table.add_column(col, justify="right" if col != "status" else "left")
    for name, n in result["by_status"].items():
        ages = result["by_age"].get(name, {})
        table.add_row(name, str(n), *(str(ages.get(b, 0)) for b in ("<7d", "7-29d", "30-89d", ">=90d")))
    out.print(table)
    out.print("funnel: " + " → ".join(f"{k} {v}" for k, v in result["funnel"].items()))
    out.print(f"overdue holds (over {result['retention_months']} months): {result['overdue_holds']}")


@db_errors
def reconcile_cmd(as_json: bool = JsonOpt, ledger: str | None = LedgerOpt,
                  operator: str | None = OperatorOpt, config: Path | None = ConfigOpt) -> None:
    """Active numbers without a printed notice, stuck notices, envelopes of revoked numbers.

    Exit 0 when all is reconciled, 1 when something needs attention."""
    from core.clock import SystemClock
    from mailroom.reconcile import reconcile

    result = reconcile(_opts(ledger, operator, config), SystemClock())
    if as_json:
        out.print_json(json.dumps(result, ensure_ascii=False))
    else:
        out.print(f"active numbers without a printed notice: {result['active_without_printed_notice']} "
                  f"(no notice {result['without_notice']}, planned {result['planned_not_printed']})")
        out.print(f"notices stuck past their deadline: {len(result['stuck'])} envelope(s)")
        for row in result["stuck"][:50]:
            out.print(f"  {row['registered_mail_number']} {row['status']} {row.get('note', '')}")
        out.print(f"envelopes of revoked numbers (pull from the mail): "
                  f"{len(result['revoked_numbers_envelopes'])}")
        for row in result["revoked_numbers_envelopes"][:50]:
            out.print(f"  {row['registered_mail_number']} {row['status']}")
        recent = result["recently_pulled_envelopes"]
        out.print(f"envelopes voided by a number change in the last 14 days (check they were "
                  f"taken out): {len(recent)}")
        for rmn in recent[:50]:
            out.print(f"  {rmn}")
    if not result["clean"]:
        raise typer.Exit(1)


@db_errors
def reprint_cmd(batch_dir: Path = typer.Argument(..., help="The batch folder with spoiled sheets."),
                envelopes: str = typer.Option(..., "--envelopes", help="Envelope numbers, e.g. 12,57."),
                folder: Path = typer.Option(..., "--out", help="New folder for the reprint batch."),
                ledger: str | None = LedgerOpt, operator: str | None = OperatorOpt,
                config: Path | None = ConfigOpt) -> None:
    """Reprint spoiled envelopes identically (same registered-mail numbers) into a new batch."""
    from mailroom.new_envelopes import reprint

    try:
        seqs = sorted({int(part) for part in envelopes.split(",") if part.strip()})
    except ValueError:
        raise InputError("--envelopes is a comma-separated list of envelope numbers",
                         field="envelopes") from None
    result = reprint(_opts(ledger, operator, config, folder), batch_dir, seqs)
    _report(result)
    if result.get("qa") != "pass":
        raise typer.Exit(1)


def _date(text: str, flag: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise InputError(f"{flag} must be a date written YYYY-MM-DD", field=flag) from None


def register(app: typer.Typer) -> None:
    """Attach `mail` (group), `reconcile` and `reprint` to the CLI."""
    app.add_typer(mail_app, name="mail")
    app.command("reconcile")(reconcile_cmd)
    app.command("reprint")(reprint_cmd)
