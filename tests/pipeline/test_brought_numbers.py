"""The ledger steps take the numbers rows bring from the check stage's own output.

The check stage keeps them in a private file (0600 in a folder that is exactly 0700); the
issue and apply stages read that file, never the input again, and remove it when they
end, done or failed. A resumed run checks the input first, which
writes the file again.
"""

from __future__ import annotations

import stat
from pathlib import Path

import polars as pl
import pytest

from pipeline.stages.apply_events import stage_apply
from pipeline.stages.bookkeeping import stage_start
from pipeline.stages.check import brought_numbers_path, stage_check
from pipeline.stages.issue import stage_issue
from tests.helpers.flow_runs import ledger_numbers
from tests.helpers.row_runs import EVENT_COLUMNS, bulk_world, event, new_code, opts_for, write
from tests.readers.hostile_corpus import base_rows, my_number


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_bulk_keeps_a_brought_number_with_the_register_gone_after_the_check(tmp_path, demo_key_path):
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    rows = base_rows()
    brought = my_number("71234567890")
    rows[1]["my_number"] = brought
    register = write(tmp_path, rows)
    opts = opts_for(tmp_path, demo_key_path, url)

    stage_check(opts, str(register))
    run_id = stage_start(opts, str(register))["run_id"]
    private = brought_numbers_path(opts.run_dir)
    assert _mode(private) == 0o600 and _mode(private.parent) == 0o700
    assert pl.read_parquet(private)["my_number"].to_list() == [brought]
    assert brought.encode() not in opts.run_dir.accepted_path.read_bytes()
    register.unlink()   # the issue stage must not need it: it reads the check stage's output
    issued = stage_issue(opts, run_id)
    assert issued["outcomes"] == {"issued": 7, "kept": 1}
    held = ledger_numbers(url).filter(pl.col("resident_code") == rows[1]["resident_code"])
    assert held["my_number"].to_list() == [brought]
    assert not private.exists()   # in the ledger now: the private copy is gone


def test_the_private_folder_is_made_exactly_0700_even_when_it_existed_wider(tmp_path, demo_key_path):
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    opts = opts_for(tmp_path, demo_key_path, url)
    folder = brought_numbers_path(opts.run_dir.make()).parent
    folder.mkdir(mode=0o755)
    folder.chmod(0o755)
    stage_check(opts, str(write(tmp_path, base_rows())))
    assert _mode(folder) == 0o700 and _mode(brought_numbers_path(opts.run_dir)) == 0o600


def test_daily_move_in_keeps_its_number_from_the_check_stage_output(tmp_path, demo_key_path):
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    rows = bulk_world(tmp_path, demo_key_path, url)
    number, code = my_number("61234567890"), new_code(7)
    events = write(tmp_path, [event(rows[5], "move_in", "2026-11-24", resident_code=code, my_number=number,
                                    household_id="NEW-7")], "events.csv", EVENT_COLUMNS)
    opts = opts_for(tmp_path, demo_key_path, url)
    stage_check(opts, str(events), "events")
    run_id = stage_start(opts, str(events), "daily")["run_id"]
    events.unlink()
    applied = stage_apply(opts, run_id)
    assert applied["outcomes"] == {"kept": 1}
    assert ledger_numbers(url).filter(pl.col("resident_code") == code)["my_number"].to_list() == [number]
    assert not brought_numbers_path(opts.run_dir).exists()


def test_a_failed_issue_stage_leaves_no_brought_number_behind(tmp_path, demo_key_path):
    """The run's key is refused (another key): nothing is issued and the private copy goes."""
    from core.errors import KeyMismatch
    from core.keys import generate_key_file
    from tests.helpers.flow_runs import make_opts

    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    rows = base_rows()
    rows[1]["my_number"] = my_number("71234567890")
    register = write(tmp_path, rows)
    opts = opts_for(tmp_path, demo_key_path, url)
    stage_check(opts, str(register))
    run_id = stage_start(opts, str(register))["run_id"]
    other = tmp_path / "other-key.json"
    generate_key_file(other, demo=True)
    with pytest.raises(KeyMismatch):
        stage_issue(make_opts(tmp_path, other, out_dir=opts.out_dir, ledger={"url": url}), run_id)
    assert not brought_numbers_path(opts.run_dir).exists()
    assert ledger_numbers(url).height == 0
