"""Property: any sequence of overlapping commits leaves exactly their union, each number once."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger import numbers, open_ledger, reporting, runs
from tests.helpers.ledger_data import number_frame

POOL = number_frame(0, 40)
subsets = st.lists(st.sets(st.integers(0, 39), max_size=40), min_size=1, max_size=5)


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    """A migrated empty SQLite ledger, copied per example (migrating each time is slow)."""
    path = tmp_path_factory.mktemp("template") / "t.db"
    led = open_ledger(f"sqlite:///{path}", operator="unknown", create=True)
    led.close()
    return path


@settings(max_examples=25)
@given(batches=subsets)
def test_commits_accumulate_to_the_union(template, batches):
    with tempfile.TemporaryDirectory() as tmp:
        shutil.copy(template, Path(tmp) / "l.db")
        led = open_ledger(f"sqlite:///{Path(tmp) / 'l.db'}", operator="prop", create=True)
        run = runs.start(led, "prop", "0" * 64, {})
        seen: set[int] = set()
        for batch in batches:
            result = numbers.commit(led, run, POOL[sorted(batch)], "k")
            assert result.inserted == len(batch - seen)
            assert result.already_present == len(batch & seen)
            seen |= batch
        active = numbers.active(led)
        assert active.select("resident_code", "my_number").equals(
            POOL[sorted(seen)].select("resident_code", "my_number"))
        assert reporting.stats(led)["numbers_total"] == len(seen)
        led.close()
