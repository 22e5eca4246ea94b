"""Ledger fixtures for pipeline tests: the same SQLite / PostgreSQL pair as tests/ledger."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pipeline.options import strip_ledger_password
from tests.ledger.conftest import ledger_url, pg_url, sqlite_url  # noqa: F401  (fixtures)


@pytest.fixture(scope="session")
def demo_key_path(tmp_path_factory) -> Path:
    from core.keys import generate_key_file

    path = tmp_path_factory.mktemp("keys") / "key.json"
    generate_key_file(path, demo=True)
    return path


@pytest.fixture
def run_ledger_url(ledger_url: str, monkeypatch: pytest.MonkeyPatch) -> str:  # noqa: F811
    """The ledger URL as a run has it: without a password, which goes to PGPASSWORD, as the
    CLI does (``ledger_url``: SQLite, then PostgreSQL when configured)."""
    monkeypatch.setenv("PGPASSWORD", os.environ.get("PGPASSWORD", ""))
    return strip_ledger_password(ledger_url, os.environ)
