"""A throwaway PostgreSQL schema per test, on the server named by MYNUMBER_TEST_PG_URL."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import quote

import pytest
import sqlalchemy as sa

PG_ENV = "MYNUMBER_TEST_PG_URL"


def pg_base_url() -> str:
    """The test server's URL, or skip the test with the reason (visible in the summary)."""
    url = os.environ.get(PG_ENV)
    if not url:
        pytest.skip(f"PostgreSQL tests need {PG_ENV} (e.g. source .ci/postgres.sh)")
    return url


@contextmanager
def fresh_schema_url(prefix: str = "t") -> Iterator[str]:
    """A URL whose search_path is a new schema of the test database, dropped afterwards."""
    base = pg_base_url()
    schema = f"{prefix}_{uuid.uuid4().hex[:16]}"
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
