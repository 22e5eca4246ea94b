"""Schema migrations run from code: works from an installed package, on SQLite and PostgreSQL.

The alembic configuration is built here (no alembic.ini): the script directory is found
next to this file, and the connection is handed to env.py, so the engine's SQLite pragmas
and BEGIN IMMEDIATE apply to migrations too and two processes initialising the same ledger
queue up instead of racing.
"""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection, Engine

from core.errors import LedgerError, SchemaTooNew

from .engine import safe_url, write_transaction

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
#: PostgreSQL advisory lock id held while migrating (any constant shared by all processes)
_PG_MIGRATION_LOCK = 0x6D796E756D  # "mynum"


def alembic_config(connection: Connection | None = None) -> Config:
    """An alembic Config pointing at the packaged migrations, optionally bound to a connection."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    """The newest revision this program knows."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def known_revisions() -> set[str]:
    """Every revision this program knows."""
    script = ScriptDirectory.from_config(alembic_config())
    return {rev.revision for rev in script.walk_revisions()}


def current_revision(conn: Connection) -> str | None:
    """The revision recorded in the database (None: no ledger there yet)."""
    return MigrationContext.configure(conn).get_current_revision()


def check_revision(revision: str | None, engine: Engine) -> None:
    """Refuse a database written by a newer program (SchemaTooNew) before touching it."""
    if revision is not None and revision not in known_revisions():
        raise SchemaTooNew(
            f"ledger at {safe_url(engine.url)} has schema revision {revision}, newer than this "
            f"program knows (head {head_revision()}); upgrade the program, do not downgrade "
            "the ledger"
        )


def upgrade(engine: Engine) -> str:
    """Create or upgrade the ledger schema to head; returns the revision now in place."""
    with write_transaction(engine) as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_MIGRATION_LOCK})
        revision = current_revision(conn)
        check_revision(revision, engine)
        if revision != head_revision():
            command.upgrade(alembic_config(conn), "head")
        now = current_revision(conn)
    if now != head_revision():  # pragma: no cover - a broken migration chain
        raise LedgerError(f"ledger migration stopped at {now}, expected {head_revision()}")
    return now
