"""Property: any sequence of overlapping commits leaves exactly their union, each number once."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger import Ledger
from tests.helpers.ledger_data import number_frame

POOL = number_frame(0, 40)
subsets = st.lists(st.sets(st.integers(0, 39), max_size=40), min_size=1, max_size=5)


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    """A migrated empty SQLite ledger, copied per example (migrating each time is slow)."""
    path = tmp_path_factory.mktemp("template") / "t.db"
    led = Ledger(f"sqlite:///{path}")
    led.init()
    led.close()
    return path


@settings(max_examples=25)
@given(batches=subsets)
def test_commits_accumulate_to_the_union(template, batches):
    with tempfile.TemporaryDirectory() as tmp:
        shutil.copy(template, Path(tmp) / "l.db")
        led = Ledger(f"sqlite:///{Path(tmp) / 'l.db'}", operator="prop")
        run = led.start_run("prop", "0" * 64, {})
        seen: set[int] = set()
        for batch in batches:
            result = led.commit_numbers(run, POOL[sorted(batch)], "k")
            assert result.inserted == len(batch - seen)
            assert result.already_present == len(batch & seen)
            seen |= batch
        active = led.active_numbers()
        assert active.select("resident_code", "my_number").equals(
            POOL[sorted(seen)].select("resident_code", "my_number"))
        assert led.stats()["numbers_total"] == len(seen)
        led.close()
