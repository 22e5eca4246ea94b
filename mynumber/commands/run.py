"""Operator commands that run the flows: bulk, daily, qa, serve and demo."""

from __future__ import annotations

import getpass
import os
import shutil
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.table import Table

from pipeline.options import RunOptions, strip_ledger_password

console = Console(stderr=True)

LedgerOpt = typer.Option(None, "--ledger", envvar="MYNUMBER_LEDGER",
                         help="Ledger database URL (default sqlite:///mynumber-data/ledger.db).")
KeyOpt = typer.Option(None, "--key", envvar="MYNUMBER_KEY_FILE",
                      help="Key file made by `mynumber keygen` (default mynumber-data/key.json).")
WorkersOpt = typer.Option(2, "--workers", min=1, help="Parallel render/QA processes.")
BatchOpt = typer.Option(1000, "--batch-size", min=1, help="Envelopes per print batch.")
OperatorOpt = typer.Option(None, "--operator", help="Name recorded in the audit log (default: OS user).")
RunnerOpt = typer.Option("process", "--task-runner", help="process (this machine), thread, or dask.")
DaskOpt = typer.Option(None, "--dask-address", help="Scheduler address of a running Dask cluster.")
SampleOpt = typer.Option(20, "--qr-sample", min=0, help="QR codes decoded per batch by in-run QA.")
EncodingOpt = typer.Option(None, "--encoding", help="Input encoding: utf-8, utf-8-sig or cp932 (default: detect).")
RuleOpt = typer.Option("mod11", "--resident-code-rule", help="Resident-code check: mod11 or none.")


def make_options(out: Path, ledger: Optional[str], key: Optional[Path], **kw: object) -> RunOptions:
    """Options for a run; the ledger password moves to the environment, not the options."""
    from mynumber.keys import resolve_key_path
    from mynumber.logs import quiet_console_tracebacks

    quiet_console_tracebacks()
    return RunOptions(
        out_dir=str(out),
        ledger_url=strip_ledger_password(ledger),
        key_path=str(resolve_key_path(key)),
        operator=kw.pop("operator", None) or getpass.getuser(),  # type: ignore[arg-type]
        **kw,  # type: ignore[arg-type]
    )


def print_summary(report: dict) -> None:
    table = Table(title=f"{report['kind']} run" + (" [DEMO]" if report.get("demo") else ""))
    table.add_column("outcome")
    table.add_column("rows", justify="right")
    for name, count in report["outcomes"].items():
        table.add_row(name, str(count))
    table.add_row("[bold]input rows", f"[bold]{report['input_rows']}")
    Console().print(table)
    Console().print(f"run {report['run_id']}")
    Console().print(
        f"households {report.get('households', 0)} · envelopes {report.get('envelopes', 0)} · "
        f"batches {report.get('batches', 0)} · pages {report.get('pages', 0)} · "
        f"manual handling {report.get('manual_handling', 0)} · QA {report['qa']['verdict']} · "
        f"counts add up: {'yes' if report['counts_add_up'] else 'NO'}"
    )
    Console().print(f"report: {Path(report.get('out_dir', '.')) / 'report.html'}")


def _finish(report: dict, out: Path) -> None:
    from pipeline.report import exit_code

    print_summary({**report, "out_dir": str(out)})
    raise typer.Exit(exit_code(report))


def bulk(
    register: Path = typer.Argument(..., help="Register export: CSV (UTF-8 or CP932) or Parquet."),
    out: Path = typer.Option(..., "--out", help="Run folder: batches, manifests, reports."),
    ledger: Optional[str] = LedgerOpt, key: Optional[Path] = KeyOpt,
    workers: int = WorkersOpt, batch_size: int = BatchOpt, operator: Optional[str] = OperatorOpt,
    task_runner: str = RunnerOpt, dask_address: Optional[str] = DaskOpt, qr_sample: int = SampleOpt,
    encoding: Optional[str] = EncodingOpt, resident_code_rule: str = RuleOpt,
    issue_date: str = typer.Option("", "--issue-date", help="Date printed as 交付日 (default today)."),
) -> None:
    """Issue numbers for a whole register and print every household's envelope.

    Started again with the same arguments after a crash, it resumes and reuses what is done.
    """
    from flows.bulk_issuance import run_bulk

    opts = make_options(out, ledger, key, workers=workers, batch_size=batch_size, operator=operator,
                        task_runner=task_runner, dask_address=dask_address, qr_sample_size=qr_sample,
                        encoding=encoding, resident_code_rule=resident_code_rule, issue_date=issue_date)
    _finish(run_bulk(str(register), opts), out)


def daily(
    events: Path = typer.Argument(..., help="Events file for one day (births, move-ins, changes)."),
    date: str = typer.Option(..., "--date", help="The day processed (YYYY-MM-DD); printed as 交付日."),
    out: Path = typer.Option(..., "--out", help="Run folder for this day."),
    ledger: Optional[str] = LedgerOpt, key: Optional[Path] = KeyOpt,
    workers: int = WorkersOpt, batch_size: int = BatchOpt, operator: Optional[str] = OperatorOpt,
    task_runner: str = RunnerOpt, dask_address: Optional[str] = DaskOpt, qr_sample: int = SampleOpt,
    encoding: Optional[str] = EncodingOpt, resident_code_rule: str = RuleOpt,
) -> None:
    """Apply one day's events: births and first registrations get numbers, move-ins keep theirs."""
    from flows.daily_increment import run_daily

    opts = make_options(out, ledger, key, workers=workers, batch_size=batch_size, operator=operator,
                        task_runner=task_runner, dask_address=dask_address, qr_sample_size=qr_sample,
                        encoding=encoding, resident_code_rule=resident_code_rule, issue_date=date)
    _finish(run_daily(str(events), opts), out)


def qa(
    batch_dirs: list[Path] = typer.Argument(..., help="One or more batch folders (with cards.pdf)."),
    ledger: Optional[str] = LedgerOpt,
    full: bool = typer.Option(False, "--full", help="Decode every QR code, not a sample."),
    sample: int = typer.Option(50, "--sample", min=0, help="QR codes decoded per batch when not --full."),
    seed: int = typer.Option(0, "--seed", help="Seed of the QR sample (recorded in qa.json)."),
    plan: Optional[Path] = typer.Option(None, "--plan", help="The run's work/plan.parquet, to check nothing is missing."),
) -> None:
    """Re-check print batches against their manifests, the plan and the ledger; writes qa.json."""
    from flows.print_qa import print_qa
    from mynumber.logs import quiet_console_tracebacks

    quiet_console_tracebacks()
    run_folder = batch_dirs[0].resolve().parent.parent
    url = _qa_ledger_url(ledger, run_folder)
    if url is None:
        console.print("no ledger given or recorded for this run: the ledger check is skipped")
    if plan is None:
        guess = run_folder / "work" / "plan.parquet"
        plan = guess if guess.exists() else None
    results = print_qa([str(b) for b in batch_dirs], url, str(plan) if plan else None, full, sample, seed)
    for result in results:
        mark = "[green]pass" if result["verdict"] == "pass" else "[red]FAIL"
        Console().print(f"{mark}[/] {result['batch_dir']} {' '.join(result['failed_checks'])}")
    raise typer.Exit(0 if all(r["verdict"] == "pass" for r in results) else 1)


def _qa_ledger_url(option: Optional[str], run_folder: Path) -> Optional[str]:
    """--ledger or MYNUMBER_LEDGER, else the ledger the run recorded, else none (never the
    default path: an empty ledger would make every printed number look wrong)."""
    if option or os.environ.get("MYNUMBER_LEDGER"):
        return strip_ledger_password(option)
    state = run_folder / "work" / "state.json"
    if state.exists():
        import json

        recorded = json.loads(state.read_text(encoding="utf-8")).get("ledger_url")
        if recorded:
            return recorded
    return None


def serve(
    inbox: Path = typer.Option(..., "--inbox", help="Folder where events-YYYY-MM-DD.csv files arrive."),
    out: Path = typer.Option(..., "--out", help="Root folder; each day's run goes to OUT/YYYY-MM-DD."),
    cron: str = typer.Option("0 7 * * *", "--cron", help="When to run, in Japan time (Asia/Tokyo)."),
    ledger: Optional[str] = LedgerOpt, key: Optional[Path] = KeyOpt,
    workers: int = WorkersOpt, batch_size: int = BatchOpt, operator: Optional[str] = OperatorOpt,
) -> None:
    """Serve the daily increment as a Prefect deployment on a cron schedule (Ctrl-C stops)."""
    from prefect import serve as prefect_serve

    from flows.serve import daily_deployment

    opts = make_options(out, ledger, key, workers=workers, batch_size=batch_size, operator=operator)
    inbox.mkdir(parents=True, exist_ok=True)
    prefect_serve(daily_deployment(str(inbox), str(out), opts, cron))


def demo(
    out: Path = typer.Option(Path("demo"), "--out", help="Demo folder (recreated on each run)."),
    rows: int = typer.Option(1000, "--rows", min=10, help="Residents in the generated register."),
    workers: int = WorkersOpt,
    batch_size: int = typer.Option(200, "--batch-size", min=1),
    seed: int = typer.Option(2015, "--seed"),
) -> None:
    """The whole bulk run on a generated register, a demo key and a SQLite ledger in OUT."""
    from flows.bulk_issuance import run_bulk
    from mynumber.keys import ensure_demo_key
    from sample_data.generate import SampleParams, generate_register, write_export

    from mynumber.logs import quiet_console_tracebacks

    quiet_console_tracebacks()
    marker = out / ".mynumber-demo"
    if out.exists() and not marker.exists() and any(out.iterdir()):
        raise typer.BadParameter(f"{out} exists and is not a demo folder", param_hint="--out")
    for name in ("ledger.db", "ledger.db-wal", "ledger.db-shm", "run", "register.csv"):
        target = out / name
        shutil.rmtree(target) if target.is_dir() else target.unlink(missing_ok=True)
    out.mkdir(parents=True, exist_ok=True)
    marker.touch()
    key = ensure_demo_key(out / "key.json")
    register = out / "register.csv"
    write_export(generate_register(SampleParams(rows=rows, seed=seed)), register)
    console.print(f"demo register: {rows} residents → {register}; demo key {key.key_id}")
    opts = RunOptions(out_dir=str(out / "run"), ledger_url=f"sqlite:///{out / 'ledger.db'}",
                      key_path=str(out / "key.json"), workers=workers, batch_size=batch_size,
                      operator=os.environ.get("USER") or "demo", demo=True)
    _finish(run_bulk(str(register), opts), out / "run")


def register(app: typer.Typer) -> None:
    for command in (bulk, daily, qa, serve, demo):
        app.command()(command)
