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

from cli.options import ResidentCodeRuleChoice, choice_value
from core.errors import ConfigError


def check(
    register: Path = typer.Argument(..., help="Register or events export: CSV (UTF-8 or CP932) or Parquet."),
    out: Path = typer.Option(Path("check-out"), "--out", help="Folder for report.json, quarantine.csv, gx_results.json."),
    encoding: str | None = typer.Option(None, "--encoding", help="utf-8, utf-8-sig or cp932 (Shift_JIS is read as cp932). Default: detect."),
    resident_code_rule: ResidentCodeRuleChoice = typer.Option("mod11", "--resident-code-rule", help="Resident-code check digit: mod11 (assumed rule) or none (format only)."),  # type: ignore[valid-type]
    kind: str = typer.Option("register", "--kind", help="register (the whole register) or events (a daily events file)."),
    today: str | None = typer.Option(None, "--today", help="Treat this ISO date as today (dates after it are in the future)."),
) -> int:
    """Check a register export: every row is accepted or quarantined with a reason."""
    from pipeline.register_check import check_register_file

    if kind not in ("register", "events"):
        raise ConfigError(f"--kind must be register or events, not {kind!r}")
    day = None
    if today:
        try:
            day = dt.date.fromisoformat(today)
        except ValueError:
            raise ConfigError("--today must be an ISO date (YYYY-MM-DD)") from None
    result = check_register_file(register, encoding=encoding, resident_code_rule=str(choice_value(resident_code_rule)),
                                 kind=kind, out_dir=out, today=day)
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
    if report["ignored_columns"]:
        names = ", ".join(escape(repr(n[:40])) for n in report["ignored_columns"])
        console.print(f"ignored columns (no register meaning, not read): {names}")
    console.print(f"written: {out / 'report.json'}, {out / 'quarantine.csv'}, {out / 'gx_results.json'}")
    return 1 if report["outcomes"]["quarantined"] else 0


def register(app: typer.Typer) -> None:
    app.command()(check)
