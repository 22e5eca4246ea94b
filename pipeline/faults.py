"""Named crash points, so tests can SIGKILL a real run at an exact stage.

Resumability is only believable when a run has been killed at every interesting moment
and finished correctly afterwards. ``crash_point("after_derive")`` does nothing unless
the environment variable ``MYNUMBER_CRASH_AT`` names that point; then it kills the
run's whole process group (flow process, workers, the temporary Prefect server) with
SIGKILL — no cleanup handlers run, exactly like a power cut or the OOM killer.
"""

from __future__ import annotations

import os
import signal

CRASH_ENV = "MYNUMBER_CRASH_AT"
POINTS = ("after_check", "after_derive", "after_commit", "after_plan", "mid_render")


def crash_point(name: str) -> None:
    """Kill the process group here when the test asks for it."""
    if name not in POINTS:
        raise ValueError(f"unknown crash point {name}")
    if os.environ.get(CRASH_ENV) == name:
        os.killpg(os.getpgid(0), signal.SIGKILL)
