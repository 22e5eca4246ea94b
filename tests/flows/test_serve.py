"""The daily deployment: a Japan-time cron over an inbox of dated events files."""

from __future__ import annotations

import datetime as dt

import pytest

from core.settings import Settings
from flows.serve import DEFAULT_CRON, TIMEZONE, daily_deployment, pending_event_files
from pipeline.options import RunOptions

pytestmark = pytest.mark.xdist_group("prefect")


def test_pending_files_are_dated_events_files_oldest_first(tmp_path):
    for name in ["events-2026-11-26.csv", "events-2026-11-24.parquet", "notes.txt", "events-latest.csv"]:
        (tmp_path / name).write_text("x")
    (tmp_path / "processed").mkdir()
    (tmp_path / "processed" / "events-2026-11-20.csv").write_text("x")
    found = pending_event_files(tmp_path)
    assert [(d, p.name) for d, p in found] == [
        (dt.date(2026, 11, 24), "events-2026-11-24.parquet"),
        (dt.date(2026, 11, 26), "events-2026-11-26.csv"),
    ]


def test_deployment_runs_on_a_tokyo_cron_with_safe_parameters(tmp_path):
    opts = RunOptions.of(Settings().with_changes(key={"ref": "/secure/key.json"}), tmp_path / "out")
    deployment = daily_deployment(str(tmp_path / "inbox"), str(tmp_path / "out"), opts)
    schedule = deployment.schedules[0].schedule
    assert schedule.cron == DEFAULT_CRON and schedule.timezone == TIMEZONE == "Asia/Tokyo"
    assert set(deployment.parameters) == {"inbox", "out_root", "opts"}
