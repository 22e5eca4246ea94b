"""Ledger fixtures for pipeline tests: the same SQLite / PostgreSQL pair as tests/ledger."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pipeline.options import strip_ledger_password
from tests.ledger.conftest import ledger_url, pg_url, sqlite_url  # noqa: F401  (fixtures)


@pytest.fixture(scope="session")
def demo_key_path(tmp_path_factory) -> Path:
    from core.keys import generate_key_file

    path = tmp_path_factory.mktemp("keys") / "key.json"
    generate_key_file(path, demo=True)
    return path


@pytest.fixture
def run_ledger_url(ledger_url: str, monkeypatch: pytest.MonkeyPatch) -> str:  # noqa: F811
    """The ledger URL as a run has it: without a password, which goes to PGPASSWORD, as the
    CLI does (``ledger_url``: SQLite, then PostgreSQL when configured)."""
    monkeypatch.setenv("PGPASSWORD", os.environ.get("PGPASSWORD", ""))
    return strip_ledger_password(ledger_url, os.environ)


@pytest.fixture
def small_run(tmp_path: Path, demo_key_path: Path):
    """(options, register path) of a 40-resident demo run on SQLite, batches of 10."""
    import datetime as dt

    from core.settings import resolve_settings
    from pipeline.options import RunOptions
    from sample_data.generate import SampleParams, generate_register, write_export

    register = tmp_path / "register.csv"
    write_export(generate_register(SampleParams(rows=40, seed=7, as_of=dt.date(2015, 10, 5))), register)
    settings = resolve_settings({
        "ledger": {"url": f"sqlite:///{tmp_path / 'ledger.db'}", "operator": "test"},
        "key": {"ref": str(demo_key_path)},
        "print": {"batch_size": 10, "issue_date": "2015-10-05"},
        "qa": {"qr_sample_size": 2},
    }, {}, demo=True)
    return RunOptions.of(settings, tmp_path / "run"), register
