"""Named crash points and damage points, so tests can break a real run at an exact stage.

Resumability is only believable when a run has been killed at every interesting moment
and finished correctly afterwards. ``crash_point("after_derive")`` does nothing unless
the environment variable ``MYNUMBER_CRASH_AT`` names that point; then it kills the
run's whole process group (flow process, workers, the temporary Prefect server) with
SIGKILL — no cleanup handlers run, exactly like a power cut or the OOM killer.

A damage point stands for a bad disk or a bad copy: ``damage_point(batch_dir)`` flips bytes
in the middle of a rendered ``cards.pdf`` when ``MYNUMBER_DAMAGE_BATCH`` names that batch, so
print QA must catch it and the batch's notices go back to planning. These environment
variables are the one thing below the CLI that reads the environment: they are test hooks,
inherited by worker processes, and do nothing unless set.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

CRASH_ENV = "MYNUMBER_CRASH_AT"
DAMAGE_ENV = "MYNUMBER_DAMAGE_BATCH"
POINTS = ("after_check", "after_derive", "after_commit", "after_plan", "mid_render")


def crash_point(name: str) -> None:
    """Kill the process group here when the test asks for it."""
    if name not in POINTS:
        raise ValueError(f"unknown crash point {name}")
    if os.environ.get(CRASH_ENV) == name:
        os.killpg(os.getpgid(0), signal.SIGKILL)


def damage_point(batch_dir: Path) -> None:
    """Corrupt the batch's PDF after rendering when the test names this batch."""
    pdf = batch_dir / "cards.pdf"
    if os.environ.get(DAMAGE_ENV) != batch_dir.name or not pdf.exists():
        return
    data = bytearray(pdf.read_bytes())
    middle = len(data) // 2
    data[middle:middle + 64] = bytes(64)  # a zeroed run, as a bad sector leaves it
    pdf.write_bytes(bytes(data))
