"""Fixtures for flow tests: ONE Prefect test server for the session, real keys, real
SQLite ledgers, generated registers.

Every module here marks itself ``xdist_group("prefect")`` so that, under
``pytest -n 2 --dist loadgroup``, all flow tests share one worker and one server
(a Prefect server costs ~5 s to start; one per test would dominate the suite).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")



@pytest.fixture(scope="session")
def prefect_api() -> dict[str, str]:
    """A real Prefect API server (temporary SQLite database) shared by the session."""
    from prefect.settings import PREFECT_API_URL, PREFECT_SERVER_DATABASE_CONNECTION_URL
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield {
            "api_url": PREFECT_API_URL.value(),
            "db_path": PREFECT_SERVER_DATABASE_CONNECTION_URL.value().split("///", 1)[1],
        }


@pytest.fixture(scope="session")
def demo_key_path(tmp_path_factory) -> Path:
    from core.keys import generate_key_file

    path = tmp_path_factory.mktemp("keys") / "key.json"
    generate_key_file(path, demo=True)
    return path


@pytest.fixture(scope="session")
def small_register(tmp_path_factory) -> Path:
    """A generated Nerima-like register of ~240 residents (clean: nothing to quarantine)."""
    from sample_data.generate import SampleParams, generate_register, write_export

    path = tmp_path_factory.mktemp("register") / "register.csv"
    write_export(generate_register(SampleParams(rows=240, seed=11)), path)
    return path


