"""Wait for a condition with a bound, instead of sleeping and hoping a thread has run.

On a shared machine a background thread (a heartbeat, a server dropping a dead session's lock)
runs when the scheduler lets it: a fixed sleep either wastes time on a quiet machine or fails
on a busy one. ``wait_for`` polls until the condition holds and fails only after a generous bound.
"""

from __future__ import annotations

import time
from collections.abc import Callable

#: long enough for a heartbeat or a server clean-up at load ~25 on two cores
DEFAULT_BOUND_S = 120.0


def wait_for(condition: Callable[[], bool], *, bound_s: float = DEFAULT_BOUND_S,
             poll_s: float = 0.05) -> bool:
    """True as soon as ``condition()`` holds; False if it never did within ``bound_s``."""
    give_up = time.monotonic() + bound_s
    while True:
        if condition():
            return True
        if time.monotonic() >= give_up:
            return False
        time.sleep(poll_s)
