"""The one door into the ledger: ``open_ledger`` checks the schema once and returns a handle.

Every area module (numbers, notices, mailings, events, keys, runs, reporting, ...) is a set
of plain functions of a ``LedgerHandle`` (reads, and writes that own their transaction) or
of a ``WriteContext`` (a step inside a caller's write transaction). The write context
carries who writes (the operator), the clock every timestamp comes from, and the audit
append (``ledger.chain``), so no area calls back into a facade and none asks the wall clock.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import URL, Connection, Engine

from core.clock import Clock, SystemClock
from core.errors import LedgerError

from . import chain, migrate
from .engine import (
    make_engine,
    read_transaction,
    require_existing,
    resolve_url,
    safe_url,
    write_transaction,
)


@dataclass(frozen=True)
class WriteContext:
    """One writing transaction: its connection, who writes, the clock, and the audit append."""

    conn: Connection
    operator: str
    clock: Clock

    def now(self) -> datetime:
        """The moment recorded for this write (aware UTC, from the handle's clock)."""
        return self.clock.now()

    def audit(self, action: str, subject: str, why: str = "", run_id: str | None = None) -> None:
        """Append one entry to the audit chain in this transaction (counts, never a number)."""
        chain.append(self.conn, at=self.now(), who=self.operator, action=action,
                     subject=subject, why=why, run_id=run_id)


#: the machine's clock, the default of every open (a test or the CLI passes its own)
SYSTEM_CLOCK = SystemClock()


#: proof that a handle was made by open_ledger (whose schema check is never skipped)
_OPENED = object()


class LedgerHandle:
    """An open ledger whose schema was checked: engine, operator, clock, transactions.

    Made only by ``open_ledger``; constructing one directly is refused."""

    def __init__(self, url: URL, engine: Engine, *, operator: str, clock: Clock,
                 revision: str, opened_by: object = None) -> None:
        if opened_by is not _OPENED:
            raise TypeError("a LedgerHandle comes from ledger.open_ledger (it checks the schema)")
        self.url = url
        self.engine = engine
        self.operator = operator
        self.clock = clock
        self.revision = revision

    def __repr__(self) -> str:
        return f"LedgerHandle({safe_url(self.url)!r}, operator={self.operator!r})"

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def now(self) -> datetime:
        return self.clock.now()

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A consistent read (one snapshot)."""
        with read_transaction(self.engine) as conn:
            yield conn

    @contextmanager
    def write(self, *lock_tables: str) -> Iterator[WriteContext]:
        """One serialised writing transaction (engine.write_transaction) as a WriteContext."""
        with write_transaction(self.engine, *lock_tables) as conn:
            yield WriteContext(conn, self.operator, self.clock)

    def close(self) -> None:
        """Release pooled connections (SQLite's page cache goes with them)."""
        self.engine.dispose()

    def __enter__(self) -> LedgerHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _current_revision(engine: Engine) -> str | None:
    """The database's revision; an unreachable ledger is one LedgerError naming the fix."""
    try:
        with engine.connect() as conn:
            return migrate.current_revision(conn)
    except sa.exc.OperationalError as exc:
        reason = str(getattr(exc, "orig", "")).split("\n")[0][:160]
        raise LedgerError(f"ledger at {safe_url(engine.url)} could not be reached ({reason}); "
                          "check --ledger, the server and the credentials") from None


def open_ledger(url: str | URL, *, operator: str, clock: Clock = SYSTEM_CLOCK,
                create: bool = False) -> LedgerHandle:
    """Open the ledger at ``url`` after checking its schema, once.

    A schema written by a newer program is refused (SchemaTooNew). An existing ledger at an
    older revision is moved to head (the migrations only move forward). ``create=True``
    also creates a missing ledger (``ledger init`` and the first issuing run); without it a
    missing SQLite file or an empty database is refused, so a read never reports on an
    empty ledger it made itself.
    """
    parsed = url if isinstance(url, URL) else resolve_url(url)
    if not create:
        require_existing(parsed)
    engine = make_engine(parsed)
    try:
        revision = _current_revision(engine)
        migrate.check_revision(revision, engine)
        if revision is None and not create:
            raise LedgerError(f"no ledger schema at {safe_url(parsed)}: "
                              "`mynumber ledger init` creates one")
        if revision != migrate.head_revision():
            revision = migrate.upgrade(engine)
    except BaseException:
        engine.dispose()
        raise
    return LedgerHandle(parsed, engine, operator=operator or "unknown",
                        clock=clock, revision=revision, opened_by=_OPENED)
