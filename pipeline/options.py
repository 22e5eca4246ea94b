"""Run options and the run folder: everything a stage needs, as paths and plain values.

Prefect records flow and task parameters in clear and shows them in its UI, so what
crosses a task boundary is this small frozen record: paths, sizes, names — never a key,
never a password, never a resident's data. A database password found in the ledger URL
is moved into the environment (libpq's ``PGPASSWORD``) before any flow starts.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url

from mynumber.errors import ConfigError

DEFAULT_LEDGER_URL = "sqlite:///mynumber-data/ledger.db"
TASK_RUNNERS = ("process", "thread", "dask")


@dataclass(frozen=True)
class RunOptions:
    """What one bulk or daily run is asked to do. Safe to log and to show in the UI."""

    out_dir: str
    ledger_url: str = DEFAULT_LEDGER_URL
    key_path: str = "mynumber-data/key.json"
    workers: int = 2
    batch_size: int = 1000
    resident_code_rule: str = "mod11"
    encoding: str | None = None
    qr_sample_size: int = 20
    qa_seed: int = 0
    full_qr: bool = False
    issue_date: str = ""
    task_runner: str = "process"
    dask_address: str | None = None
    operator: str | None = None
    demo: bool = False

    def __post_init__(self) -> None:
        if self.workers < 1:
            raise ConfigError("--workers must be at least 1")
        if self.batch_size < 1:
            raise ConfigError("--batch-size must be at least 1")
        if self.task_runner not in TASK_RUNNERS:
            raise ConfigError(f"--task-runner must be one of {', '.join(TASK_RUNNERS)}")
        if self.issue_date:
            try:
                dt.date.fromisoformat(self.issue_date)
            except ValueError:
                raise ConfigError("--issue-date must be YYYY-MM-DD") from None
        if make_url(self.ledger_url).password:
            raise ConfigError("internal: ledger URL still carries a password")

    @property
    def run_dir(self) -> "RunDir":
        return RunDir(Path(self.out_dir))

    @property
    def issue_day(self) -> dt.date:
        return dt.date.fromisoformat(self.issue_date) if self.issue_date else dt.date.today()

    def replace(self, **changes: object) -> "RunOptions":
        return dataclasses.replace(self, **changes)


def strip_ledger_password(url: str | None) -> str:
    """Return the ledger URL without its password, moving the password to PGPASSWORD.

    Prefect stores flow parameters in clear; libpq (and so psycopg) reads the password
    from the environment instead, and worker processes inherit it.
    """
    url = url or os.environ.get("MYNUMBER_LEDGER") or DEFAULT_LEDGER_URL
    try:
        parsed = make_url(url)
    except Exception:
        raise ConfigError("the ledger URL is not a valid database URL") from None
    if parsed.password:
        os.environ["PGPASSWORD"] = str(parsed.password)
        parsed = parsed._replace(password=None)  # URL.set() treats None as "unchanged"
    return parsed.render_as_string(hide_password=False)


@dataclass(frozen=True)
class RunDir:
    """Where a run keeps its files. Work files hold register data but never a My Number."""

    root: Path

    @property
    def check_dir(self) -> Path:
        return self.root / "check"

    @property
    def work_dir(self) -> Path:
        return self.root / "work"

    @property
    def batches_dir(self) -> Path:
        return self.root / "batches"

    @property
    def accepted_path(self) -> Path:
        return self.work_dir / "accepted.parquet"

    @property
    def outcomes_path(self) -> Path:
        return self.work_dir / "outcomes.parquet"

    @property
    def plan_path(self) -> Path:
        return self.work_dir / "plan.parquet"

    @property
    def state_path(self) -> Path:
        return self.work_dir / "state.json"

    @property
    def quarantine_path(self) -> Path:
        return self.root / "quarantine.csv"

    @property
    def manual_path(self) -> Path:
        return self.root / "manual_handling.csv"

    @property
    def report_json(self) -> Path:
        return self.root / "report.json"

    @property
    def report_html(self) -> Path:
        return self.root / "report.html"

    def batch_dir(self, batch_id: str) -> Path:
        return self.batches_dir / batch_id

    def make(self) -> "RunDir":
        for folder in (self.root, self.check_dir, self.work_dir, self.batches_dir):
            folder.mkdir(parents=True, exist_ok=True)
        return self
