"""core.heap.frozen_heap: the long-lived heap is out of the collector's way, and nothing leaks."""

from __future__ import annotations

import gc
import weakref

import pytest

import core.heap
from core.heap import frozen_heap


@pytest.fixture(autouse=True)
def first_entry() -> None:
    """Each test starts a full round of entries afresh (the full pass is every Nth)."""
    core.heap._entries = 0


class Node:
    def __init__(self) -> None:
        self.me = self          # a reference cycle: only the cyclic collector frees it


def test_frozen_while_inside_and_handed_back_after() -> None:
    with frozen_heap():
        assert gc.get_freeze_count() > 0
    assert gc.get_freeze_count() == 0


def test_a_cycle_frozen_alive_and_dropped_inside_is_still_collected_after() -> None:
    node = Node()
    alive = weakref.ref(node)
    with frozen_heap():
        del node
        gc.collect()
        assert alive() is not None       # frozen: the collector does not look at it
    gc.collect()
    assert alive() is None               # unfrozen: collected, not leaked


def test_unfrozen_even_when_the_body_raises() -> None:
    try:
        with frozen_heap():
            raise RuntimeError("render failed")
    except RuntimeError:
        pass
    assert gc.get_freeze_count() == 0


def test_old_garbage_frozen_on_the_way_in_is_collected_after() -> None:
    node = Node()
    alive = weakref.ref(node)
    gc.collect()                          # the cycle is in the oldest generation now
    del node                              # garbage, but no full collection on the way in
    with frozen_heap():
        gc.collect()
        assert alive() is not None        # frozen with the live heap
    gc.collect()
    assert alive() is None                # handed back and freed: not leaked


class Document:
    """A reference cycle holding a large buffer, as a reportlab document is."""

    def __init__(self) -> None:
        self.pages = [bytearray(1 << 20)]
        self.me = self


def test_the_cycles_a_batch_drops_are_freed_on_the_way_out_each_time() -> None:
    """The regression: cycles dropped inside were frozen by the next window and a worker's
    memory grew by a document per batch until the machine ran out."""
    for _ in range(5):
        with frozen_heap():
            alive = weakref.ref(Document())     # drawn, saved, dropped: garbage in a cycle
        assert alive() is None                   # freed at once, not one window later


def test_garbage_made_outside_is_freed_within_a_full_round_of_entries() -> None:
    """A cycle dropped between windows (a stage's ledger) is frozen by the next window; a
    worker is nearly always inside one, so a full pass every FULL_COLLECTION_EVERY entries
    must free it even if no automatic full collection ever runs outside."""
    from core.heap import FULL_COLLECTION_EVERY

    node = Node()
    alive = weakref.ref(node)
    gc.collect()                              # the cycle is in the oldest generation
    del node                                  # dropped outside any window
    gc.disable()                              # no automatic collection outside the windows
    try:
        for _ in range(FULL_COLLECTION_EVERY):
            with frozen_heap():
                pass
    finally:
        gc.enable()
    assert alive() is None
