"""One run at a time per ledger, enforced by the database itself.

Two bulk runs on one ledger interleave their registered-mail allocations and mailing
records (issue 13: envelopes printed with numbers the ledger does not hold). So a bulk or
daily run holds the ledger's run lock from before its first write to its end:

- PostgreSQL: a session advisory lock on a connection held for the whole run. It is keyed
  by the ledger's identity (database and schema: several ledgers may share one database in
  separate schemas, and advisory locks are database-wide), and the server drops it when the
  holder's connection dies, so a crashed run never blocks the next one. The ``run_locks``
  row only says who holds it.
- SQLite: the ``run_locks`` row is the lock. It carries a lease that a heartbeat thread
  extends; a later run takes it over only when the holder's process is gone (same host,
  pid not alive) or the lease has expired (another host, or a hung process).

The refusal names the run, the operator and the start time, never personal data.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from core.errors import LedgerError
from core.processes import pid_alive

from .engine import write_transaction
from .handle import LedgerHandle
from .schema import run_locks

log = logging.getLogger("mynumber.ledger.locks")

LOCK_NAME = "ledger"
#: a holder that stops heart-beating for this long is presumed dead (other hosts)
DEFAULT_LEASE_S = 120.0


class RunInProgress(LedgerError):
    """Another run holds the ledger (exit 2: nothing was done)."""


@dataclass(frozen=True)
class Holder:
    """Who holds the run lock (what the refusal message shows)."""

    holder: str
    run_name: str
    operator: str
    host: str
    pid: int
    out_dir: str
    since: datetime
    lease_until: datetime

    def describe(self) -> str:
        return (f"run {self.run_name} by {self.operator} since {self.since:%Y-%m-%d %H:%M:%S} UTC "
                f"is in progress (host {self.host}, pid {self.pid})")


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def is_stale(holder: Holder, now: datetime, host: str) -> bool:
    """A holder whose lease expired, or whose process on this host is gone."""
    if holder.lease_until < now:
        return True
    return holder.host == host and not pid_alive(holder.pid)


class RunLock:
    """The ledger's run lock for one run (a context manager; release is idempotent)."""

    def __init__(self, ledger: LedgerHandle, run_name: str, out_dir: str, *,
                 lease_s: float = DEFAULT_LEASE_S) -> None:
        self.ledger = ledger
        self.run_name = run_name[:200]
        self.out_dir = out_dir
        self.lease_s = lease_s
        self.holder = uuid.uuid4().hex
        self.host = socket.gethostname()
        self._pg_conn: Connection | None = None
        self._pg_key = 0
        self._stop = threading.Event()
        self._beat: threading.Thread | None = None
        self.lost = False

    @property
    def _is_pg(self) -> bool:
        return self.ledger.engine.dialect.name == "postgresql"

    # --- acquire / release ---------------------------------------------------------------
    def acquire(self, *, wait: bool = False, poll_s: float = 2.0) -> None:
        """Take the lock, or raise RunInProgress (or, with ``wait``, poll until it is free)."""
        while True:
            holder = self._try_pg() if self._is_pg else self._try_sqlite()
            if holder is None:
                break
            if not wait:
                raise RunInProgress(f"{holder.describe()}; wait for it to finish, or add --wait")
            log.warning("waiting: %s", holder.describe())
            time.sleep(poll_s)
        self._beat = threading.Thread(target=self._heartbeat, name="run-lock-heartbeat", daemon=True)
        self._beat.start()

    def release(self) -> None:
        """Give the lock back (only ours: a holder that took over a lapsed lease keeps it)."""
        self._stop.set()
        if self._beat is not None:
            self._beat.join(timeout=10)
            self._beat = None
        try:
            with write_transaction(self.ledger.engine) as conn:
                conn.execute(sa.delete(run_locks).where(run_locks.c.name == LOCK_NAME,
                                                        run_locks.c.holder == self.holder))
        finally:
            if self._pg_conn is not None:
                try:
                    # a pooled connection would keep the session, and the lock, alive: unlock,
                    # then discard the connection instead of returning it to the pool
                    self._pg_conn.execute(sa.text("SELECT pg_advisory_unlock(:k)"), {"k": self._pg_key})
                finally:
                    self._pg_conn.invalidate()
                    self._pg_conn.close()
                    self._pg_conn = None

    def __enter__(self) -> RunLock:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()

    # --- backends ------------------------------------------------------------------------
    def _row(self, now: datetime) -> dict[str, Any]:
        return {"name": LOCK_NAME, "holder": self.holder, "run_name": self.run_name,
                "operator": self.ledger.operator, "host": self.host, "pid": os.getpid(),
                "out_dir": self.out_dir, "since": now,
                "lease_until": now + timedelta(seconds=self.lease_s)}

    def _try_sqlite(self) -> Holder | None:
        now = self.ledger.now()
        with write_transaction(self.ledger.engine) as conn:
            current = _read_holder(conn)
            if current is not None:
                if not is_stale(current, now, self.host):
                    return current
                log.warning("taking over a stale run lock: %s", current.describe())
                conn.execute(sa.delete(run_locks).where(run_locks.c.name == LOCK_NAME))
            conn.execute(sa.insert(run_locks).values(**self._row(now)))
        return None

    def _try_pg(self) -> Holder | None:
        engine = self.ledger.engine
        conn = engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        key = conn.execute(sa.text(
            "SELECT hashtextextended('mynumber-run-lock:' || current_database() || '.' "
            "|| current_schema(), 0)")).scalar_one()
        got = conn.execute(sa.text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar_one()
        if not got:
            conn.close()
            current = current_holder(self.ledger)
            if current is None:  # between its lock and its row: describe it plainly
                now = self.ledger.now()
                current = Holder("?", "(starting)", "another operator", "?", 0, "", now, now)
            return current
        self._pg_conn, self._pg_key = conn, int(key)
        now = self.ledger.now()
        # we hold the advisory lock: any row left is from a holder whose session died
        with write_transaction(engine) as wconn:
            wconn.execute(sa.delete(run_locks).where(run_locks.c.name == LOCK_NAME))
            wconn.execute(sa.insert(run_locks).values(**self._row(now)))
        return None

    def _heartbeat(self) -> None:
        """Extend the lease every third of it; note when another holder has taken over."""
        interval = max(0.5, self.lease_s / 3)
        while not self._stop.wait(interval):
            try:
                with write_transaction(self.ledger.engine) as conn:
                    done = conn.execute(
                        sa.update(run_locks)
                        .where(run_locks.c.name == LOCK_NAME, run_locks.c.holder == self.holder)
                        .values(lease_until=self.ledger.now() + timedelta(seconds=self.lease_s))
                    ).rowcount
                if done != 1:
                    self.lost = True
                    log.error("the run lock was taken over by another run (lease lapsed)")
                    return
            except Exception as exc:  # keep beating: a busy ledger is not a lost lock
                log.warning("run-lock heartbeat failed (%s); retrying", type(exc).__name__)


def _read_holder(conn: Connection) -> Holder | None:
    row = conn.execute(sa.select(run_locks).where(run_locks.c.name == LOCK_NAME)).mappings().first()
    if row is None:
        return None
    return Holder(holder=row["holder"], run_name=row["run_name"], operator=row["operator"],
                  host=row["host"], pid=int(row["pid"]), out_dir=row["out_dir"],
                  since=_utc(row["since"]), lease_until=_utc(row["lease_until"]))


def current_holder(ledger: LedgerHandle) -> Holder | None:
    """Who holds the run lock now (None: nobody): what a refused run is told."""
    with ledger.read() as conn:
        return _read_holder(conn)
