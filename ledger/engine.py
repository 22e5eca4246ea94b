"""Engines for the ledger: where the URL comes from, and how each database is made safe to share.

SQLite is the embedded default: WAL so readers never block the writer, a long busy timeout
and ``BEGIN IMMEDIATE`` for writers so two processes committing at once queue up instead of
one failing with "database is locked" halfway through. PostgreSQL is used through psycopg 3
(needed for COPY); writers take a table lock so concurrent commits serialise the same way.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.pool import ConnectionPoolEntry

from core.errors import AlreadyIssued, ConfigError, LedgerError
from core.private import create_private_file, private_dir

#: how long a SQLite writer waits for another writer (a 740k commit takes seconds)
SQLITE_BUSY_TIMEOUT_MS = 300_000
#: page cache per connection (KiB; allocated only as used)
SQLITE_CACHE_KIB = 256 * 1024


def resolve_url(url: str) -> URL:
    """The ledger URL as SQLAlchemy wants it (the CLI resolves which one from the settings)."""
    try:
        parsed = make_url(url)
    except sa.exc.ArgumentError:
        raise ConfigError("ledger URL is not a valid database URL") from None
    backend = parsed.get_backend_name()
    if backend == "postgresql":
        # COPY needs psycopg 3; psycopg2 is not a dependency
        parsed = parsed.set(drivername="postgresql+psycopg")
    elif backend != "sqlite":
        raise ConfigError(f"ledger database {backend!r} is not supported (use sqlite or postgresql)")
    return parsed


def sqlite_path(url: str | URL) -> Path | None:
    """The file of a SQLite ledger URL (None: not SQLite, or in memory)."""
    parsed = url if isinstance(url, URL) else resolve_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return None
    return Path(parsed.database).expanduser()


def require_existing(url: str | URL) -> None:
    """Refuse (exit 2) a SQLite ledger file that does not exist, instead of creating an
    empty one (read-only commands, and every open without ``create``)."""
    path = sqlite_path(url)
    if path is not None and not path.is_file():
        raise ConfigError(f"no ledger at {path}: check --ledger (or MYNUMBER_LEDGER); "
                          "`mynumber ledger init` creates one")


def safe_url(url: URL) -> str:
    """The URL as it may be shown to an operator: password hidden."""
    return url.render_as_string(hide_password=True)


def make_engine(url: str | URL | None = None) -> Engine:
    """An engine with the per-database settings the ledger relies on."""
    if url is None:  # the message resolve_url gives any URL it cannot parse
        raise ConfigError("ledger URL is not a valid database URL")
    parsed = url if isinstance(url, URL) else resolve_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(parsed)
    return sa.create_engine(parsed, pool_pre_ping=True)


def _sqlite_engine(url: URL) -> Engine:
    database = url.database
    if database and database != ":memory:" and not database.startswith("file:"):
        # every full number is in this file: 0600 in a 0700 folder (new ones); SQLite gives
        # its -wal and -shm files the database file's mode
        db_path = Path(database).expanduser()
        try:
            private_dir(db_path.parent)
            if not db_path.exists():
                create_private_file(db_path)
        except OSError as exc:  # a read-only or missing folder: one clear line, exit 2
            raise LedgerError(f"cannot create the ledger file {db_path}: "
                              f"{exc.strerror or type(exc).__name__}") from None
    engine = sa.create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})

    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: sqlite3.Connection, _record: ConnectionPoolEntry) -> None:
        # only ever attached to sqlite engines: the DBAPI connection is pysqlite's sqlite3.Connection
        # let us emit BEGIN ourselves (pysqlite's implicit BEGIN is always DEFERRED)
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=FULL")  # a legal record: survive power loss too
        # bulk commits touch index pages all over: a 2 MB default cache thrashes
        cursor.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
        cursor.execute("PRAGMA temp_store=MEMORY")
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        mode = conn.get_execution_options().get("ledger_begin", "DEFERRED")
        conn.exec_driver_sql(f"BEGIN {mode}")

    return engine


@contextmanager
def write_transaction(engine: Engine, *lock_tables: str) -> Iterator[Connection]:
    """One writing transaction, serialised against every other writer of the same tables.

    SQLite: BEGIN IMMEDIATE takes the single write lock up front (waiting up to the busy
    timeout). PostgreSQL: SHARE ROW EXCLUSIVE on the named tables conflicts with itself but
    not with readers, so concurrent commits queue and their set-based checks stay exact.
    """
    try:
        with engine.connect() as conn:
            if engine.dialect.name == "sqlite":
                conn.execution_options(ledger_begin="IMMEDIATE")
            with conn.begin():
                if engine.dialect.name == "postgresql":
                    # wait for another writer as long as SQLite would, then fail clearly
                    conn.exec_driver_sql(f"SET LOCAL lock_timeout = '{SQLITE_BUSY_TIMEOUT_MS}ms'")
                    for table in lock_tables:
                        conn.exec_driver_sql(f"LOCK TABLE {table} IN SHARE ROW EXCLUSIVE MODE")
                yield conn
    except sa.exc.IntegrityError as exc:
        # the database's message quotes the offending row: never pass it on (from None)
        raise integrity_error(exc) from None
    except sa.exc.OperationalError as exc:
        if not _is_busy(exc):
            raise
        raise LedgerError(
            f"ledger busy: another writer held it for more than {SQLITE_BUSY_TIMEOUT_MS // 1000} s;"
            " nothing was written, try again") from None


def _is_busy(exc: sa.exc.OperationalError) -> bool:
    """A lock wait that timed out (SQLite 'database is locked', PostgreSQL lock_timeout)."""
    code = getattr(getattr(exc, "orig", None), "sqlstate", None)
    return code == "55P03" or "database is locked" in str(getattr(exc, "orig", ""))


def integrity_error(exc: sa.exc.IntegrityError) -> LedgerError:
    """Our error for a constraint the database enforced, naming the constraint, no values."""
    diag = getattr(getattr(exc, "orig", None), "diag", None)
    name = getattr(diag, "constraint_name", None)
    first_line = str(getattr(exc, "orig", "")).split("\n")[0]
    if not name:
        # SQLite says e.g. "UNIQUE constraint failed: issued_numbers.my_number" (no values)
        name = first_line if "constraint failed" in first_line else "integrity"
    unique = str(name).startswith(("uq_", "pk_")) or first_line.startswith("UNIQUE") or (
        "duplicate key" in first_line)
    cls = AlreadyIssued if unique else LedgerError
    return cls(f"refused by the ledger constraint {name}; nothing was written")


@contextmanager
def read_transaction(engine: Engine) -> Iterator[Connection]:
    """A consistent read (one snapshot in WAL / one transaction on PostgreSQL)."""
    with engine.connect() as conn, conn.begin():
        yield conn
