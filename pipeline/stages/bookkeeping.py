"""The run's entries in the ledger: opening it, starting, counting and finishing a run."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from core.keys import open_key
from ledger import LedgerHandle, keys, notices, open_ledger, runs
from ledger import numbers as ledger_numbers
from pipeline.files import (
    sha256_file,
    write_json_atomic,
)
from pipeline.options import RunOptions
from pipeline.results import StartResult

#: runs that derive numbers: their key must be the ledger's current key (ledger.keys)
ISSUING_KINDS = ("bulk", "daily")


def run_ledger(opts: RunOptions) -> LedgerHandle:
    """The run's ledger, its schema checked once (a first run creates it, an older one is
    upgraded); close it when the stage is done (its SQLite page cache goes with it)."""
    return open_ledger(opts.ledger.url, operator=opts.ledger.operator, create=True)


@dataclass(frozen=True)
class QaLedger:
    """What print QA asks the ledger (qa.batch_qa.ActiveNumbers), answered through the handle
    (qa and ledger are siblings: QA never imports the ledger)."""

    handle: LedgerHandle

    def active_numbers(self, resident_codes: pl.Series) -> pl.DataFrame:
        return ledger_numbers.active(self.handle, resident_codes)

    def number_owners(self, my_numbers: pl.Series) -> pl.DataFrame:
        return ledger_numbers.owners(self.handle, my_numbers)


def stage_start(opts: RunOptions, register_path: str, kind: str = "bulk") -> StartResult:
    """Hash the input and open a ledger run, resuming an unfinished one for the same input."""
    with run_ledger(opts) as ledger:   # closed: its SQLite page cache goes with it
        return _start(opts, register_path, kind, ledger)


def _start(opts: RunOptions, register_path: str, kind: str, ledger: LedgerHandle) -> StartResult:
    """:func:`stage_start` with its ledger."""
    run_dir = opts.run_dir.make()
    input_sha256 = sha256_file(Path(register_path))
    if kind in ISSUING_KINDS:
        # before the run is recorded: another key, or DEMO/production mixed, changes nothing
        keys.bind_key(ledger, open_key(opts.key))
    previous = runs.find(ledger, kind, input_sha256)
    # resume only a run that wrote into this same folder (a run elsewhere is not ours)
    if previous and previous.get("status") == "running" and _same_out(previous, opts):
        run_id, resumed = previous["run_id"], True
    else:
        run_id = runs.start(ledger, kind, input_sha256, _safe_params(opts))
        resumed = False
    state = StartResult(run_id=run_id, kind=kind, input_sha256=input_sha256, resumed=resumed,
                        ledger_url=opts.ledger.url)  # no password: it never enters RunOptions
    write_json_atomic(run_dir.state_path, state)
    return state


def stage_notices(opts: RunOptions, run_id: str) -> dict[str, Any]:
    """The notices this run planned, by status: the run is done only when all are printed."""
    with run_ledger(opts) as ledger:
        mine = notices.of_run(ledger, run_id)
    machine = mine.filter(~pl.col("is_manual"))
    by_status = {r["status"]: r["len"] for r in machine.group_by("status").len().to_dicts()}
    return {
        "planned": machine.height,
        "printed": machine.filter(pl.col("status") != "planned").filter(
            pl.col("status") != "voided").height,
        "voided": by_status.get("voided", 0),
        "by_status": by_status,
        "manual": mine.filter(pl.col("is_manual")).height,
        "all_printed": machine.filter(pl.col("status").is_in(["planned", "voided"])).height == 0,
    }


def stage_finish(opts: RunOptions, run_id: str, status: str, counts: dict[str, Any]) -> None:
    with run_ledger(opts) as ledger:
        runs.finish(ledger, run_id, status, counts)


def _same_out(previous: dict[str, Any], opts: RunOptions) -> bool:
    recorded = previous.get("params", {}).get("out_dir")
    return recorded is None or recorded == str(Path(opts.out_dir).absolute())


def _safe_params(opts: RunOptions) -> dict[str, Any]:
    """Options worth recording with the run: no secrets (the URL has no password)."""
    return {
        "out_dir": str(Path(opts.out_dir).absolute()),
        "workers": opts.runner.workers, "batch_size": opts.print.batch_size,
        "resident_code_rule": opts.check.resident_code_rule, "issue_date": opts.print.issue_date,
        "qr_sample_size": opts.qa.qr_sample_size, "demo": opts.demo,
    }


def stage_funnel(opts: RunOptions) -> dict[str, Any]:
    """The ledger-wide funnel issued → printed → mailed → delivered / held / destroyed."""
    with run_ledger(opts) as ledger:
        return notices.counts(ledger)
