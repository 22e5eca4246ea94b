"""Fixtures: a fresh ledger per test on SQLite (a temp file) and on PostgreSQL.

PostgreSQL comes from $MYNUMBER_TEST_PG_URL (CI exports it); each test gets its own schema
(``search_path`` set in the URL), dropped afterwards, so tests are independent and can run
under pytest-xdist. Without the variable the PostgreSQL cases skip, saying why.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ledger import LedgerHandle, open_ledger, runs
from tests.helpers.postgres import fresh_schema_url


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A URL whose search_path is a fresh schema of the test PostgreSQL database."""
    with fresh_schema_url("t") as url:
        yield url


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'ledger.db'}"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def ledger_url(request) -> str:
    """The same test on both databases."""
    return request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "pg_url")


@pytest.fixture
def ledger(ledger_url) -> Iterator[LedgerHandle]:
    led = open_ledger(ledger_url, operator="test-operator", create=True)
    yield led
    led.close()


@pytest.fixture
def run_id(ledger) -> str:
    return runs.start(ledger, "test", "0" * 64, {"purpose": "test"})
