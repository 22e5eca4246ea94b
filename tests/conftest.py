"""Session-wide test settings: each test session (and xdist worker) gets its own Prefect home.

Set before anything imports prefect, so flow tests never read or write ``~/.prefect`` that
other programs on the machine share.
"""

from __future__ import annotations

import os
import tempfile

from hypothesis import settings

if "MYNUMBER_TEST_KEEP_PREFECT_HOME" not in os.environ:
    os.environ["PREFECT_HOME"] = tempfile.mkdtemp(prefix="mynumber-test-prefect-")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")

# One hypothesis profile for the whole suite, loaded once: no deadline (hypothesis' default
# 200 ms per example failed tests on a shared machine at load ~20: a deadline measures the
# machine, not the code), and the failing example's blob printed so it can be replayed.
settings.register_profile("mynumber", deadline=None, print_blob=True)
settings.load_profile("mynumber")

# the `faults` fixture: crash/damage hooks for in-process runs (pipeline.faults)
pytest_plugins = ["tests.helpers.fault_plugin"]


def pytest_collection_modifyitems(items: list) -> None:
    """Run the flow tests first (stable order otherwise, so each module stays together):
    they hold the longest tests (whole CLI runs of 30-60 s), and with two xdist workers a
    long test started last leaves the other worker idle at the end of the run."""
    items.sort(key=lambda item: 0 if "/tests/flows/" in str(item.fspath) else 1)
