"""Fixtures for flow tests: ONE Prefect test server for the session, real keys, real
SQLite ledgers, generated registers.

Every module here marks itself ``xdist_group("prefect")`` so that, under
``pytest -n 2 --dist loadgroup``, all flow tests share one worker and one server
(a Prefect server costs ~5 s to start; one per test would dominate the suite).
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import polars as pl
import pytest

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")

ROOT = Path(__file__).resolve().parents[2]
ISSUE_DATE = "2026-11-26"


@pytest.fixture(scope="session")
def prefect_api() -> dict[str, str]:
    """A real Prefect API server (temporary SQLite database) shared by the session."""
    from prefect.settings import PREFECT_API_URL, PREFECT_SERVER_DATABASE_CONNECTION_URL
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield {
            "api_url": PREFECT_API_URL.value(),
            "db_path": PREFECT_SERVER_DATABASE_CONNECTION_URL.value().split("///", 1)[1],
        }


@pytest.fixture(scope="session")
def demo_key_path(tmp_path_factory) -> Path:
    from mynumber.keys import generate_key_file

    path = tmp_path_factory.mktemp("keys") / "key.json"
    generate_key_file(path, demo=True)
    return path


@pytest.fixture(scope="session")
def small_register(tmp_path_factory) -> Path:
    """A generated Nerima-like register of ~240 residents (clean: nothing to quarantine)."""
    from sample_data.generate import SampleParams, generate_register, write_export

    path = tmp_path_factory.mktemp("register") / "register.csv"
    write_export(generate_register(SampleParams(rows=240, seed=11)), path)
    return path


def make_opts(tmp: Path, key: Path, **changes):
    from pipeline.options import RunOptions

    base = dict(
        out_dir=str(tmp / "out"), ledger_url=f"sqlite:///{tmp / 'ledger.db'}", key_path=str(key),
        workers=2, batch_size=40, issue_date=ISSUE_DATE, qr_sample_size=4, operator="pytest",
        demo=True,
    )
    base.update(changes)
    return RunOptions(**base)


def ledger_numbers(ledger_url: str) -> pl.DataFrame:
    """Every row of the ledger's issued numbers (read straight from the database)."""
    path = ledger_url.split("///", 1)[1]
    with sqlite3.connect(path) as conn:
        rows = conn.execute(
            "SELECT resident_code, my_number, generation, status FROM issued_numbers"
        ).fetchall()
    return pl.DataFrame(rows, schema=["resident_code", "my_number", "generation", "status"], orient="row")


def files_written(out_dir: Path) -> list[Path]:
    """Every file a run wrote that may never hold a full My Number (all but cards.pdf)."""
    return [p for p in out_dir.rglob("*") if p.is_file() and p.name != "cards.pdf"]


def assert_no_number_in(paths: list[Path], numbers: list[str], texts: list[str] = ()) -> None:
    """No issued My Number in any of the files (bytes, also as UTF-16) or texts."""
    needles = [n.encode() for n in numbers]
    for path in paths:
        data = path.read_bytes()
        for needle, number in zip(needles, numbers):
            assert needle not in data, f"a full My Number appears in {path}"
            assert number.encode("utf-16-le") not in data, f"a full My Number appears in {path}"
    for text in texts:
        for number in numbers:
            assert number not in text, "a full My Number appears in captured output"
