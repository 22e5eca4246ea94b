"""Fixtures for flow tests: ONE Prefect test server for the session, real keys, real
SQLite ledgers, generated registers.

The suite runs with ``--dist loadscope`` (pyproject.toml): each flow module stays on one
worker, and each worker starts at most one Prefect test server for all its flow modules
(a server costs 5-20 s to start; one per test would dominate the suite, and one for the
whole suite made every flow test wait on a single worker). The modules' ``xdist_group``
marks only matter under ``--dist loadgroup``.
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


