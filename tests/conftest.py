"""Session-wide test settings: each test session (and xdist worker) gets its own Prefect home.

Set before anything imports prefect, so flow tests never read or write ``~/.prefect`` that
other programs on the machine share.
"""

from __future__ import annotations

import os
import tempfile

if "MYNUMBER_TEST_KEEP_PREFECT_HOME" not in os.environ:
    os.environ["PREFECT_HOME"] = tempfile.mkdtemp(prefix="mynumber-test-prefect-")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")

from hypothesis import settings as hypothesis_settings

# One profile for the whole suite, loaded once: no per-example deadline (a busy machine made
# hypothesis' 200 ms default fail tests/layouts/test_stencil.py), and a failing example is
# printed so it can be reproduced.
hypothesis_settings.register_profile("mynumber", deadline=None, print_blob=True)
hypothesis_settings.load_profile("mynumber")


def pytest_collection_modifyitems(items: list) -> None:
    """Run the flow tests first (stable order otherwise, so each module stays together):
    they hold the longest tests (whole CLI runs of 30-60 s), and with two xdist workers a
    long test started last leaves the other worker idle at the end of the run."""
    items.sort(key=lambda item: 0 if "/tests/flows/" in str(item.fspath) else 1)
