"""Pytest plugin: the ``faults`` fixture installs fault hooks for an in-process run and
removes them afterwards (registered in tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from pipeline import faults as fault_points
from tests.helpers.fault_hooks import Faults


@pytest.fixture
def faults() -> Iterator[Callable[..., None]]:
    """``faults(damage_batch="B00001")`` installs hooks; ``faults()`` removes them."""
    previous = fault_points.install(None)

    def install(**points: str) -> None:
        fault_points.install(Faults(**points) if points else None)

    try:
        yield install
    finally:
        fault_points.install(previous)
