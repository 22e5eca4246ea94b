"""Run the bulk and daily stages as plain functions (what the flows call inside Prefect
tasks) on small hostile registers, and read back each row's verdict: shared by the row-rule
tests (tests/pipeline/test_row_rules.py) and the check --key tests (test_foresee.py)."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import polars as pl

from core.keys import load_key
from pipeline.stages.apply_events import stage_apply
from pipeline.stages.bookkeeping import stage_finish, stage_start
from pipeline.stages.check import stage_check
from pipeline.stages.issue import stage_issue
from pipeline.stages.plan import stage_plan
from tests.helpers.flow_runs import make_opts
from tests.readers.hostile_corpus import COLUMNS, base_rows, csv_text, resident_code
from transforms.numbering import derive_my_numbers

ISSUE_DAY = "2026-11-26"
_serial = itertools.count()


def opts_for(tmp: Path, key: Path, url: str) -> Any:
    return make_opts(tmp, key, out_dir=str(tmp / f"out{next(_serial)}"), ledger={"url": url})


def write(tmp: Path, rows: list[dict], name: str = "register.csv", header: tuple[str, ...] = COLUMNS) -> Path:
    path = tmp / f"{next(_serial)}-{name}"
    path.write_text(csv_text(rows, header=header), encoding="utf-8")
    return path


def run_bulk_stages(opts: Any, path: Path) -> dict[str, Any]:
    """check → start → issue → plan, as the bulk flow runs them; returns outcomes by row."""
    stage_check(opts, str(path))
    run_id = stage_start(opts, str(path))["run_id"]
    issued = stage_issue(opts, run_id)
    plan = stage_plan(opts, run_id)
    outcomes = pl.read_parquet(opts.run_dir.outcomes_path)
    quarantine = pl.read_csv(opts.run_dir.quarantine_path, infer_schema=False)
    stage_finish(opts, run_id, "partial" if quarantine.height else "succeeded", {})
    return {"run_id": run_id, "issued": issued, "plan": plan, "outcomes": outcomes, "quarantine": quarantine}


def final_verdicts(rows: int, result: dict[str, Any]) -> dict[int, str]:
    """Row → "held" (quarantined by check or issue) or "ok" (issued, kept or already issued)."""
    out = dict.fromkeys(range(1, rows + 1), "held")
    for r, outcome in result["outcomes"].select("row", "outcome").iter_rows():
        out[int(r)] = "held" if outcome == "quarantined" else "ok"
    return out


def rules_of(quarantine: pl.DataFrame, row: int) -> set[str]:
    q = quarantine.filter(pl.col("row") == str(row))
    return {r.split(":")[0] for r in q["reason"].to_list()}


def derived(key_path: Path, code: str) -> str:
    return derive_my_numbers(pl.Series([code]), load_key(str(key_path)).secret, 0)[0]


EVENT_COLUMNS = (*COLUMNS, "event", "event_date")


def bulk_world(tmp: Path, key: Path, url: str) -> list[dict]:
    rows = base_rows()
    run_bulk_stages(opts_for(tmp, key, url), write(tmp, rows))
    return rows


def run_daily_stages(opts: Any, path: Path) -> dict[str, Any]:
    stage_check(opts, str(path), "events")
    run_id = stage_start(opts, str(path), "daily")["run_id"]
    applied = stage_apply(opts, run_id)
    stage_plan(opts, run_id)
    outcomes = pl.read_parquet(opts.run_dir.outcomes_path)
    quarantine = pl.read_csv(opts.run_dir.quarantine_path, infer_schema=False)
    stage_finish(opts, run_id, "partial" if quarantine.height else "succeeded", {})
    return {"applied": applied, "outcomes": outcomes, "quarantine": quarantine}


def event(base: dict, kind: str, date: str = "2026-11-25", **changes: Any) -> dict:
    return {**base, "event": kind, "event_date": date, **changes}


def new_code(serial: int) -> str:
    return resident_code(f"9{serial:09d}")

