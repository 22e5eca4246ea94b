"""Named crash points and damage points, so tests can break a real run at an exact stage.

Resumability is only believable when a run has been killed at every interesting moment
and finished correctly afterwards, and print QA only when it has caught a damaged PDF. The
stages call ``crash_point("after_derive")`` and ``damage_point(batch_dir)``; both do nothing
unless test code has installed hooks with ``install`` (tests/helpers/fault_hooks.py: a pytest
plugin for in-process runs, a launcher for CLI subprocesses and their worker processes).
Nothing here reads the environment: production runs have no switch that kills or damages.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

POINTS = ("after_check", "after_derive", "after_commit", "after_plan", "mid_render")


class FaultHooks(Protocol):
    """What a test installs: called at every crash point and after every rendered batch."""

    def crash(self, point: str) -> None: ...

    def damage(self, batch_dir: Path) -> None: ...


_installed: list[FaultHooks] = []  # at most one; a list so the module holds no rebindable global


def install(hooks: FaultHooks | None) -> FaultHooks | None:
    """Install ``hooks`` (None removes them) for this process; returns the ones replaced."""
    previous = _installed[0] if _installed else None
    _installed.clear()
    if hooks is not None:
        _installed.append(hooks)
    return previous


def crash_point(name: str) -> None:
    """A moment a run can die at; the installed hooks decide whether it dies here."""
    if name not in POINTS:
        raise ValueError(f"unknown crash point {name}")
    for hooks in _installed:
        hooks.crash(name)


def damage_point(batch_dir: Path) -> None:
    """A rendered batch on its way to QA; the installed hooks may damage its files."""
    for hooks in _installed:
        hooks.damage(batch_dir)
