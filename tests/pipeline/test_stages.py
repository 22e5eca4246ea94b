"""pipeline.stages.*: every stage gives back the ledger it opens.

A worker runs ~90 render and ~90 QA stages. Each opened a Ledger and left it to the
garbage collector; with the heap frozen while a batch is drawn (core.heap) those were
never collected, and each kept an SQLite connection with its page cache (~120 MB after
QA's queries): the 715,000-resident benchmark's workers reached 8 GB. Each stage now
closes its ledger; this runs the real stages in this process and checks it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ledger import LedgerHandle
from pipeline.options import RunOptions
from pipeline.stages import batches, bookkeeping, check, issue, plan


def test_every_stage_of_a_bulk_run_closes_the_ledgers_it_opens(
        small_run: tuple[RunOptions, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    opts, register = small_run
    opened: list[LedgerHandle] = []
    real_open = bookkeeping.run_ledger

    def recording_open(o: RunOptions) -> LedgerHandle:
        ledger = real_open(o)
        opened.append(ledger)
        return ledger

    for module in (bookkeeping, issue, plan, batches):  # each imports the name: patch it where used
        monkeypatch.setattr(module, "run_ledger", recording_open)

    check.stage_check(opts, str(register))
    run_id = bookkeeping.stage_start(opts, str(register))["run_id"]
    issue.stage_issue(opts, run_id)
    batch_id = plan.stage_plan(opts, run_id)["batch_ids"][0]
    assert batches.stage_render(opts, batch_id)["pages"] > 0
    assert batches.stage_qa(opts, batch_id)["verdict"] == "pass"
    bookkeeping.stage_notices(opts, run_id)
    bookkeeping.stage_funnel(opts)
    bookkeeping.stage_finish(opts, run_id, "partial", {})

    assert len(opened) == 8               # start, issue, plan, render, qa, notices, funnel, finish
    for ledger in opened:   # disposed: no connection (and no page cache) left in its pool
        assert ledger.engine.pool.checkedin() == 0
