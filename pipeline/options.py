"""Run options and the run folder: everything a stage needs, as paths and plain values.

Prefect records flow and task parameters in clear and shows them in its UI, so what
crosses a task boundary is this small frozen record: the resolved settings (paths, sizes,
names) plus the run folder. Never a key, a PIN or a password: a database password found in
the ledger URL is moved into the environment (libpq's ``PGPASSWORD``) by the CLI before any
flow starts (``strip_ledger_password``).
"""

from __future__ import annotations

import os
from collections.abc import MutableMapping
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import urlsplit

from core.errors import ConfigError
from core.private import private_dir
from core.settings import Settings


@dataclass(frozen=True)
class RunOptions(Settings):
    """What one bulk or daily run is asked to do: the settings and the run folder."""

    out_dir: str = ""

    def __post_init__(self) -> None:
        super().__post_init__()
        if not self.out_dir:
            raise ConfigError("--out is required: the run folder")
        if urlsplit(self.ledger.url).password:  # Prefect would store and show it
            raise ConfigError("internal: the ledger URL of a run still carries a password")

    @property
    def run_dir(self) -> RunDir:
        return RunDir(Path(self.out_dir))

    def in_folder(self, out_dir: str | os.PathLike[str]) -> RunOptions:
        """The same run options writing into another run folder."""
        return replace(self, out_dir=str(out_dir))

    @classmethod
    def of(cls, settings: Settings, out_dir: str | os.PathLike[str]) -> RunOptions:
        """The run options for ``settings`` writing into ``out_dir``."""
        values = {name: getattr(settings, name) for name in Settings.__dataclass_fields__}
        return cls(**values, out_dir=str(out_dir))


def strip_ledger_password(url: str, environ: MutableMapping[str, str]) -> str:
    """Return the ledger URL without its password, moving the password to ``PGPASSWORD``.

    Prefect stores flow parameters in clear; libpq (and so psycopg) reads the password
    from the environment instead, and worker processes inherit it. Only the CLI calls
    this, with ``os.environ``.
    """
    from sqlalchemy.engine import make_url

    try:
        parsed = make_url(url)
    except Exception:
        raise ConfigError("the ledger URL is not a valid database URL") from None
    if parsed.password:
        environ["PGPASSWORD"] = str(parsed.password)
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
    def manual_manifest_path(self) -> Path:
        return self.root / "manual_manifest.csv"

    @property
    def report_json(self) -> Path:
        return self.root / "report.json"

    @property
    def report_html(self) -> Path:
        return self.root / "report.html"

    def batch_dir(self, batch_id: str) -> Path:
        return self.batches_dir / batch_id

    def make(self) -> RunDir:
        for folder in (self.root, self.check_dir, self.work_dir, self.batches_dir):
            private_dir(folder)  # 0700: the run folder holds full numbers and personal data
        return self
