"""Keep Python's cyclic garbage collector off the long-lived heap while a batch is drawn.

Why: a render or QA worker holds a few hundred thousand long-lived objects (Prefect, the
fonts' glyph tables, the layout caches) that every full collection walks again, while
drawing a batch allocates millions of short-lived ones and so triggers collections all the
time. Measured on a real 6,046-page batch in a process with the worker's imports: 954-968
pages/s, and 1,067-1,108 with the heap frozen.

No full collection of the whole heap: in a worker that has drawn a few batches, one walks
~480,000 live objects in ~0.5 s and finds ~400 unreachable ones (measured on 6,000-page
batches), and a worker enters twice per batch (render, QA). Instead the young generations
are collected on the way in (milliseconds) and everything on the way out while the old
heap is still frozen: that pass sees only what the batch allocated, and frees the batch's
reference cycles (a reportlab document is one, ~125 MB for 6,000 pages: without this pass
they piled up in the frozen heap and a 715,000-resident run died of memory at batch 120).
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

#: every this many entries, one full collection on the way in. Garbage made outside the
#: body (a ledger a stage opened before drawing and dropped after) is frozen with the live
#: heap, and a worker spends nearly all its time inside: without a full pass now and then
#: such garbage is never freed (a stage's unclosed SQLite connections took a worker to
#: 8 GB). At ~0.5 s a pass, 1 in 16 costs ~0.03 s a batch.
FULL_COLLECTION_EVERY = 16
_entries = 0


@contextmanager
def frozen_heap() -> Iterator[None]:
    """Collect the young generations (all of them every ``FULL_COLLECTION_EVERY`` entries),
    freeze what is left; on the way out collect what the body allocated, then unfreeze.

    Unfreezing hands the frozen objects back to the oldest generation, so anything there
    that was or became garbage meanwhile is still collected later: nothing leaks.
    """
    global _entries
    _entries += 1
    if _entries % FULL_COLLECTION_EVERY == 0:
        gc.collect()
    else:
        gc.collect(1)
    gc.freeze()
    try:
        yield
    finally:
        try:
            gc.collect()  # the frozen heap is skipped: only the body's objects are walked
        finally:
            gc.unfreeze()
