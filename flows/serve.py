"""The daily deployment: process every new events file in an inbox on a cron schedule.

Files named ``events-YYYY-MM-DD.csv`` (or ``.parquet``) are processed in date order, each
as a ``daily-increment`` subflow writing to ``OUT/YYYY-MM-DD``; a processed file moves to
``inbox/processed/``, one that failed to ``inbox/failed/`` (the run's report says why).
The schedule runs in Japan time: Prefect's cron is UTC unless told otherwise.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from prefect import flow
from prefect.schedules import Cron

from core.errors import MyNumberError
from flows.common import call_flow
from flows.issuance import daily_increment
from pipeline.options import RunOptions

if TYPE_CHECKING:
    from prefect.deployments.runner import RunnerDeployment

EVENTS_FILE = re.compile(r"^events-(\d{4}-\d{2}-\d{2})\.(csv|parquet)$")
TIMEZONE = "Asia/Tokyo"
DEFAULT_CRON = "0 7 * * *"


def pending_event_files(inbox: Path) -> list[tuple[dt.date, Path]]:
    """Unprocessed events files in the inbox, oldest date first."""
    found = []
    for path in inbox.iterdir() if inbox.is_dir() else []:
        match = EVENTS_FILE.match(path.name)
        if path.is_file() and match:
            found.append((dt.date.fromisoformat(match.group(1)), path))
    return sorted(found)


@flow(name="daily-inbox", persist_result=False)
def process_inbox(inbox: str, out_root: str, opts: RunOptions) -> list[dict[str, Any]]:
    """Run the daily increment for each pending events file, oldest first."""
    inbox_dir = Path(inbox)
    results = []
    for day, path in pending_event_files(inbox_dir):
        day_opts = RunOptions.of(opts.with_changes(print={"issue_date": day.isoformat()}),
                                 Path(out_root) / day.isoformat())
        try:
            report = call_flow(daily_increment, day_opts, f"daily-{day.isoformat()}-{path.name}",
                               str(path.absolute()), day_opts)
        except MyNumberError as exc:
            _move(path, inbox_dir / "failed")
            results.append({"file": path.name, "status": "failed", "error": str(exc)})
            continue
        _move(path, inbox_dir / "processed")
        results.append({"file": path.name, "status": "done", "run_id": report["run_id"],
                        "outcomes": report["outcomes"]})
    return results


def _move(path: Path, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    shutil.move(str(path), folder / path.name)


def daily_deployment(inbox: str, out_root: str, opts: RunOptions,
                     cron: str = DEFAULT_CRON) -> RunnerDeployment:
    """The deployment `mynumber serve` runs: the inbox flow on a Japan-time cron."""
    # to_deployment is @async_dispatch'ed (typed "RunnerDeployment | Coroutine"); called from
    # sync code, as here, it runs the sync implementation and returns the deployment itself
    return cast("RunnerDeployment", process_inbox.to_deployment(
        name="daily-increment-inbox",
        schedules=[Cron(cron, timezone=TIMEZONE)],
        parameters={"inbox": inbox, "out_root": out_root, "opts": opts},
        description="Processes new events-YYYY-MM-DD files from the inbox every day.",
        tags=["mynumber", "daily"],
    ))
