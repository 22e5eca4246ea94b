"""Helpers for flow tests: run options, reading the ledger back, scanning what a run wrote."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import polars as pl

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")

ROOT = Path(__file__).resolve().parents[2]
ISSUE_DATE = "2026-11-26"


def make_opts(tmp: Path, key: Path, *, out_dir: str | None = None, demo: bool = True,
              **sections: dict):
    """Run options for a test run: a SQLite ledger and run folder in ``tmp``, small batches.

    ``sections`` change settings by section, e.g. ``runner={"workers": 1}``.
    """
    from core.settings import resolve_settings
    from pipeline.options import RunOptions

    flags: dict[str, dict] = {
        "ledger": {"url": f"sqlite:///{tmp / 'ledger.db'}", "operator": "pytest"},
        "key": {"ref": str(key)},
        "runner": {"workers": 2},
        "print": {"batch_size": 40, "issue_date": ISSUE_DATE},
        "qa": {"qr_sample_size": 4},
    }
    for section, values in sections.items():
        flags.setdefault(section, {}).update(values)
    settings = resolve_settings(flags, {}, demo=demo)
    return RunOptions.of(settings, out_dir or str(tmp / "out"))


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
        for needle, number in zip(needles, numbers, strict=True):
            assert needle not in data, f"a full My Number appears in {path}"
            assert number.encode("utf-16-le") not in data, f"a full My Number appears in {path}"
    for text in texts:
        for number in numbers:
            assert number not in text, "a full My Number appears in captured output"


def task_names_of(db_path: str, flow_name: str) -> set[str]:
    """The task names (without Prefect's run suffix) of every run of ``flow_name``."""
    import sqlite3

    with sqlite3.connect(db_path) as conn:
        names = conn.execute(
            "SELECT tr.name FROM task_run tr JOIN flow_run fr ON fr.id = tr.flow_run_id "
            "JOIN flow f ON f.id = fr.flow_id WHERE f.name = ?", (flow_name,)).fetchall()
    return {name.rsplit("-", 1)[0] for (name,) in names}
