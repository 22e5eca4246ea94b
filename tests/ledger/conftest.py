"""Fixtures: a fresh ledger per test on SQLite (a temp file) and on PostgreSQL.

PostgreSQL comes from $MYNUMBER_TEST_PG_URL (CI exports it); each test gets its own schema
(``search_path`` set in the URL), dropped afterwards, so tests are independent and can run
under pytest-xdist. Without the variable the PostgreSQL cases skip, saying why.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from urllib.parse import quote

import pytest
import sqlalchemy as sa

from ledger import Ledger

PG_ENV = "MYNUMBER_TEST_PG_URL"


def _pg_base() -> str:
    url = os.environ.get(PG_ENV)
    if not url:
        pytest.skip(f"PostgreSQL tests need {PG_ENV} (e.g. source .ci/postgres.sh)")
    return url


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A URL whose search_path is a fresh schema of the test PostgreSQL database."""
    base = _pg_base()
    schema = f"t_{uuid.uuid4().hex[:16]}"
    admin = sa.create_engine(sa.engine.make_url(base).set(drivername="postgresql+psycopg"))
    with admin.begin() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    sep = "&" if "?" in base else "?"
    try:
        yield f"{base}{sep}options={quote(f'-csearch_path={schema}')}"
    finally:
        with admin.begin() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        admin.dispose()


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'ledger.db'}"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def ledger_url(request) -> str:
    """The same test on both databases."""
    return request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "pg_url")


@pytest.fixture
def ledger(ledger_url) -> Iterator[Ledger]:
    led = Ledger(ledger_url, operator="test-operator")
    led.init()
    yield led
    led.close()


@pytest.fixture
def run_id(ledger) -> str:
    return ledger.start_run("test", "0" * 64, {"purpose": "test"})
