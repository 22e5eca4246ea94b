"""Operator commands that run the flows: bulk, daily, qa, serve and demo."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from cli.options import (
    BatchOpt,
    ConfigOpt,
    DaskOpt,
    EncodingOpt,
    KeyOpt,
    LedgerOpt,
    NoticeFormatChoice,
    NoticeOpt,
    OperatorOpt,
    ResidentCodeRuleChoice,
    RuleOpt,
    RunnerOpt,
    SampleOpt,
    TaskRunnerChoice,
    WorkersOpt,
    choice_value,
    load_settings,
    run_options,
)
from core.errors import ConfigError
from core.settings import DEFAULT_LEDGER_URL, Settings
from pipeline.options import RunOptions

console = Console(stderr=True)
WaitOpt = typer.Option(False, "--wait", help="When another run holds the ledger or the run folder, "
                                             "wait for it instead of exiting 2.")


def _run_settings(config: Path | None, ledger: str | None, key: Path | None, operator: str | None, *,
                  workers: int | None, batch_size: int | None, task_runner: str | None,
                  dask_address: str | None, qr_sample: int | None, encoding: str | None,
                  resident_code_rule: str | None, issue_date: str | None,
                  notice_format: str | None = None, demo: bool = False) -> Settings:
    """The settings of a bulk or daily run from its flags (None: not given on the command line)."""
    from core.keys import load_key

    settings = load_settings(
        config, ledger=ledger, key=key, operator=operator, demo=demo,
        runner={"workers": workers, "task_runner": task_runner, "dask_address": dask_address},
        print={"batch_size": batch_size, "issue_date": issue_date, "notice_format": notice_format},
        qa={"qr_sample_size": qr_sample},
        check={"encoding": encoding, "resident_code_rule": resident_code_rule},
    )
    # a DEMO key makes a demo run: DEMO marks on every page, the demo mail range and sender
    if not settings.key.is_pkcs11 and load_key(settings.key.ref).is_demo:
        settings = settings.with_changes(demo={"value": True})
    return settings  # whether the key suits the ledger: preflight (pipeline.preflight.check_key)



def print_summary(report: dict[str, Any]) -> None:
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


def _finish(report: dict[str, Any], out: Path) -> None:
    from pipeline.report import exit_code

    print_summary({**report, "out_dir": str(out)})
    raise typer.Exit(exit_code(report))


def run_name(kind: str, opts: RunOptions, input_path: Path) -> str:
    """What the Prefect UI and the lock show: e.g. ``bulk-2026-10-05-register.csv``."""
    return f"{kind}-{opts.print.issue_day.isoformat()}-{input_path.name}"[:200]


def execute(kind: str, input_path: Path, out: Path, settings: Settings, *, wait: bool = False) -> None:
    """Preflight, take the run's locks, start its one Prefect API, run the flow, report.

    Preflight writes nothing and the locks are taken before the first write, so a refused
    run (exit 2) leaves the ledger, the run folder and any running run untouched.
    """
    from cli.prefect_api import prefect_api
    from pipeline.preflight import run_preflight
    from pipeline.run_lock import hold_run

    input_path = input_path.absolute()  # absolute paths in the flow's parameters
    opts = run_options(out.absolute(), settings)
    run_preflight(opts, input_path, kind)
    name = run_name(kind, opts, input_path)
    with hold_run(opts, name, wait=wait) as lock, \
            prefect_api(opts.runner.prefect_home, opts.runner.api_start_timeout_s):
        from cli.logs import quiet_console_tracebacks

        quiet_console_tracebacks()
        if kind == "bulk":
            from flows.issuance import run_bulk

            report = run_bulk(str(input_path), opts, run_name=name)
        else:
            from flows.issuance import run_daily

            report = run_daily(str(input_path), opts, run_name=name)
        if lock.lost:
            raise ConfigError("the ledger's run lock lapsed during this run and another run took it: "
                              "check `mynumber ledger stats` before printing")
    _finish(report, out)


def bulk(
    register: Path = typer.Argument(..., help="Register export: CSV (UTF-8 or CP932) or Parquet."),
    out: Path = typer.Option(..., "--out", help="Run folder: batches, manifests, reports."),
    ledger: str | None = LedgerOpt, key: Path | None = KeyOpt, config: Path | None = ConfigOpt,
    workers: int | None = WorkersOpt, batch_size: int | None = BatchOpt, operator: str | None = OperatorOpt,
    task_runner: TaskRunnerChoice | None = RunnerOpt, dask_address: str | None = DaskOpt,  # type: ignore[valid-type]
    qr_sample: int | None = SampleOpt, encoding: str | None = EncodingOpt,
    resident_code_rule: ResidentCodeRuleChoice | None = RuleOpt,  # type: ignore[valid-type]
    notice_format: NoticeFormatChoice | None = NoticeOpt,  # type: ignore[valid-type]
    issue_date: str | None = typer.Option(None, "--issue-date", help="Date printed as 交付日 (default today)."),
    wait: bool = WaitOpt,
) -> None:
    """Issue numbers for a whole register and print every household's envelope.

    Started again with the same arguments after a crash, it resumes and reuses what is done.
    """
    _check_date("--issue-date", issue_date)
    settings = _run_settings(config, ledger, key, operator, workers=workers, batch_size=batch_size,
                             task_runner=choice_value(task_runner), dask_address=dask_address,
                             qr_sample=qr_sample, encoding=encoding,
                             resident_code_rule=choice_value(resident_code_rule), issue_date=issue_date,
                             notice_format=choice_value(notice_format))
    execute("bulk", register, out, settings, wait=wait)


def _check_date(flag: str, value: str | None) -> None:
    """A date option as the user typed it, blamed by its own flag name."""
    import datetime as dt

    if value:
        try:
            dt.date.fromisoformat(value)
        except ValueError:
            raise ConfigError(f"{flag} must be a date written YYYY-MM-DD") from None


def daily(
    events: Path = typer.Argument(..., help="Events file for one day (births, move-ins, changes)."),
    date: str = typer.Option(..., "--date", help="The day processed (YYYY-MM-DD); printed as 交付日."),
    out: Path = typer.Option(..., "--out", help="Run folder for this day."),
    ledger: str | None = LedgerOpt, key: Path | None = KeyOpt, config: Path | None = ConfigOpt,
    workers: int | None = WorkersOpt, batch_size: int | None = BatchOpt, operator: str | None = OperatorOpt,
    task_runner: TaskRunnerChoice | None = RunnerOpt, dask_address: str | None = DaskOpt,  # type: ignore[valid-type]
    qr_sample: int | None = SampleOpt, encoding: str | None = EncodingOpt,
    resident_code_rule: ResidentCodeRuleChoice | None = RuleOpt,  # type: ignore[valid-type]
    notice_format: NoticeFormatChoice | None = NoticeOpt,  # type: ignore[valid-type]
    wait: bool = WaitOpt,
) -> None:
    """Apply one day's events: births and first registrations get numbers, move-ins keep theirs."""
    _check_date("--date", date)
    settings = _run_settings(config, ledger, key, operator, workers=workers, batch_size=batch_size,
                             task_runner=choice_value(task_runner), dask_address=dask_address,
                             qr_sample=qr_sample, encoding=encoding,
                             resident_code_rule=choice_value(resident_code_rule), issue_date=date,
                             notice_format=choice_value(notice_format))
    execute("daily", events, out, settings, wait=wait)


def qa(
    batch_dirs: list[Path] = typer.Argument(..., help="One or more batch folders (with cards.pdf)."),
    ledger: str | None = LedgerOpt, config: Path | None = ConfigOpt,
    full: bool = typer.Option(False, "--full", help="Decode every QR code, not a sample."),
    sample: int = typer.Option(50, "--sample", min=0, help="QR codes decoded per batch when not --full."),
    seed: int = typer.Option(0, "--seed", help="Seed of the QR sample (recorded in qa.json)."),
    plan: Path | None = typer.Option(None, "--plan", help="The run's work/plan.parquet, to check nothing is missing."),
) -> None:
    """Re-check print batches against their manifests, the plan and the ledger; writes qa.json."""
    run_folder = batch_dirs[0].resolve().parent.parent
    url = _qa_ledger_url(ledger, config, run_folder)
    if url is None:
        console.print("no ledger given or recorded for this run: the ledger check is skipped")
    if plan is None:
        guess = run_folder / "work" / "plan.parquet"
        plan = guess if guess.exists() else None
    from cli.prefect_api import prefect_api

    runner = load_settings(config, ledger=ledger).runner
    with prefect_api(runner.prefect_home, runner.api_start_timeout_s):
        from cli.logs import quiet_console_tracebacks
        from flows.print_qa import print_qa

        quiet_console_tracebacks()
        results = print_qa([str(b.absolute()) for b in batch_dirs], url, str(plan.absolute()) if plan else None,
                           full, sample, seed)
    for result in results:
        mark = "[green]pass" if result["verdict"] == "pass" else "[red]FAIL"
        Console().print(f"{mark}[/] {result['batch_dir']} {' '.join(result['failed_checks'])}")
    raise typer.Exit(0 if all(r["verdict"] == "pass" for r in results) else 1)


def _qa_ledger_url(option: str | None, config: Path | None, run_folder: Path) -> str | None:
    """--ledger, MYNUMBER_LEDGER or the settings file, else the ledger the run recorded, else
    none (never the default path: an empty ledger would make every printed number look wrong)."""
    settings = load_settings(config, ledger=option)
    if option or settings.ledger.url != DEFAULT_LEDGER_URL:  # configured by flag, env or file
        return settings.ledger.url
    state = run_folder / "work" / "state.json"
    if state.exists():
        import json

        recorded: str | None = json.loads(state.read_text(encoding="utf-8")).get("ledger_url")
        if recorded:
            return recorded
    return None


def serve(
    inbox: Path = typer.Option(..., "--inbox", help="Folder where events-YYYY-MM-DD.csv files arrive."),
    out: Path = typer.Option(..., "--out", help="Root folder; each day's run goes to OUT/YYYY-MM-DD."),
    cron: str = typer.Option("0 7 * * *", "--cron", help="When to run, in Japan time (Asia/Tokyo)."),
    ledger: str | None = LedgerOpt, key: Path | None = KeyOpt, config: Path | None = ConfigOpt,
    workers: int | None = WorkersOpt, batch_size: int | None = BatchOpt, operator: str | None = OperatorOpt,
) -> None:
    """Serve the daily increment as a Prefect deployment on a cron schedule (Ctrl-C stops)."""
    from cli.prefect_api import prefect_api

    settings = load_settings(config, ledger=ledger, key=key, operator=operator,
                             runner={"workers": workers}, print={"batch_size": batch_size})
    opts = run_options(out.absolute(), settings)
    inbox.mkdir(parents=True, exist_ok=True)
    # one API for the deployment and every daily run it starts (PREFECT_API_URL: an audited one)
    with prefect_api(opts.runner.prefect_home, opts.runner.api_start_timeout_s):
        from prefect import serve as prefect_serve

        from flows.serve import daily_deployment

        prefect_serve(daily_deployment(str(inbox.absolute()), str(out.absolute()), opts, cron))


def demo(
    out: Path = typer.Option(Path("demo"), "--out", help="Demo folder (recreated on each run)."),
    rows: int = typer.Option(1000, "--rows", min=10, help="Residents in the generated register."),
    workers: int | None = WorkersOpt,
    batch_size: int = typer.Option(200, "--batch-size", min=1),
    seed: int = typer.Option(2015, "--seed"),
) -> None:
    """The whole bulk run on a generated register, a demo key and a SQLite ledger in OUT."""
    from core.keys import ensure_demo_key
    from sample_data.generate import SampleParams, generate_register, write_export

    marker = out / ".mynumber-demo"
    if out.exists() and not marker.exists() and any(out.iterdir()):
        raise typer.BadParameter(f"{out} exists and is not a demo folder", param_hint="--out")
    for name in ("ledger.db", "ledger.db-wal", "ledger.db-shm", "run", "register.csv", "prefect"):
        target = out / name
        shutil.rmtree(target) if target.is_dir() else target.unlink(missing_ok=True)
    out.mkdir(parents=True, exist_ok=True)
    marker.touch()
    key = ensure_demo_key(out / "key.json")
    register = out / "register.csv"
    write_export(generate_register(SampleParams(rows=rows, seed=seed)), register)
    console.print(f"demo register: {rows} residents → {register}; demo key {key.key_id}")
    settings = load_settings(None, ledger=f"sqlite:///{out / 'ledger.db'}", key=out / "key.json",
                             demo=True, runner={"workers": workers, "prefect_home": str(out / "prefect")},
                             print={"batch_size": batch_size})
    execute("bulk", register, out / "run", settings)


def register(app: typer.Typer) -> None:
    for command in (bulk, daily, qa, serve, demo):
        app.command()(command)
