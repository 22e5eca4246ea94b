"""Ledger fixtures for pipeline tests: the same SQLite / PostgreSQL pair as tests/ledger."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.ledger.conftest import ledger_url, pg_url, sqlite_url  # noqa: F401  (fixtures)


@pytest.fixture(scope="session")
def demo_key_path(tmp_path_factory) -> Path:
    from core.keys import generate_key_file

    path = tmp_path_factory.mktemp("keys") / "key.json"
    generate_key_file(path, demo=True)
    return path
