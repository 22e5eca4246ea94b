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
