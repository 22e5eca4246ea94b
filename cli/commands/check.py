"""`mynumber check`: ingest a register (or events) export and run the register suite.

Exit 0: every row accepted; 1: some rows quarantined (see DIR/quarantine.csv);
2: the file is unusable (one line on stderr naming the file, and row/field where it applies).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from cli.options import ConfigOpt, ResidentCodeRuleChoice, choice_value, load_settings
from core.clock import SystemClock, japan_today
from core.errors import ConfigError


def check(
    register: Path = typer.Argument(..., help="Register or events export: CSV (UTF-8 or CP932) or Parquet."),
    out: Path = typer.Option(Path("check-out"), "--out", help="Folder for report.json, quarantine.csv, gx_results.json."),
    encoding: str | None = typer.Option(None, "--encoding", help="utf-8, utf-8-sig or cp932 (Shift_JIS is read as cp932). Default: detect."),
    resident_code_rule: ResidentCodeRuleChoice = typer.Option("mod11", "--resident-code-rule", help="Resident-code check digit: mod11 (assumed rule) or none (format only)."),  # type: ignore[valid-type]
    kind: str = typer.Option("register", "--kind", help="register (the whole register) or events (a daily events file)."),
    today: str | None = typer.Option(None, "--today", help="Treat this ISO date as today (dates after it are in the future)."),
    key: str | None = typer.Option(None, "--key", help="Also hold what the run would hold with this key and ledger "
                                   "(number collisions, events the ledger contradicts), reading only: a key file or "
                                   "pkcs11: URI. Without it, those rows are held by the run itself."),
    ledger: str | None = typer.Option(None, "--ledger", help="With --key: the ledger the run would use (default "
                                      "$MYNUMBER_LEDGER, the settings file, else sqlite:///mynumber-data/ledger.db); "
                                      "one that does not exist yet is read as empty."),
    config: Path | None = ConfigOpt,
) -> int:
    """Check a register export: every row is accepted or quarantined with a reason."""
    from pipeline.stages.register_check import check_register_file, write_check_outputs

    if kind not in ("register", "events"):
        raise ConfigError(f"--kind must be register or events, not {kind!r}")
    day = japan_today(SystemClock())  # today in Japan, read once: the check and --key agree on one date
    if today:
        try:
            day = dt.date.fromisoformat(today)
        except ValueError:
            raise ConfigError("--today must be an ISO date (YYYY-MM-DD)") from None
    if ledger is not None and key is None:
        raise ConfigError("--ledger needs --key: without the key, check cannot foresee what the ledger would hold")
    result = check_register_file(register, encoding=encoding, resident_code_rule=str(choice_value(resident_code_rule)),
                                 kind=kind, today=day)
    if key is not None:
        from core.keys import open_key
        from pipeline.stages.foresee import check_with_key

        settings = load_settings(config, ledger=ledger, key=key)
        result = check_with_key(result, open_key(settings.key), settings.ledger.url, kind=kind,
                                issue_day=day)
    write_check_outputs(out, result.report, result.quarantine, result.suite)
    report = result.report
    console = Console()
    table = Table(title=f"{report['file']} ({report['kind']}, {report['encoding']})")
    table.add_column("outcome")
    table.add_column("rows", justify="right")
    for name, count in report["outcomes"].items():
        table.add_row(name, str(count))
    table.add_row("[bold]input rows", f"[bold]{report['input_rows']}")
    console.print(table)
    broken = {k: v for k, v in report["rules"].items() if v}
    if broken:
        rules = Table(title="rules broken (rows)")
        rules.add_column("rule")
        rules.add_column("rows", justify="right")
        for name, count in sorted(broken.items(), key=lambda kv: -kv[1]):
            rules.add_row(name, str(count))
        console.print(rules)
    if "foreseen" in report:
        seen = report["foreseen"]
        console.print(f"with key {escape(seen['key_id'])} and ledger {escape(seen['ledger'])}: "
                      f"{seen['rows_held']} more rows held (what the run would hold)")
    if report["ignored_columns"]:
        names = ", ".join(escape(repr(n[:40])) for n in report["ignored_columns"])
        console.print(f"ignored columns (no register meaning, not read): {names}")
    console.print(f"written: {out / 'report.json'}, {out / 'quarantine.csv'}, {out / 'gx_results.json'}")
    return 1 if report["outcomes"]["quarantined"] else 0


def register(app: typer.Typer) -> None:
    app.command()(check)
