"""Read-only looks at a ledger before a run starts: does it exist, is its schema usable,
how many registered-mail numbers are left. Nothing here creates or changes a database.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import URL, Connection

from core.errors import ConfigError, LedgerError

from . import keys, migrate
from .engine import make_engine, resolve_url, safe_url, sqlite_path
from .keys import LedgerKey
from .mailings import parse_range

R_TABLE = "mail_number_ranges"
#: the migration that added ledger_keys (key binding)
KEYS_REVISION = "0002"


@dataclass(frozen=True)
class LedgerLook:
    """What a run needs to know about its ledger before it writes anything."""

    exists: bool  # False: a new SQLite file (or empty database) the run will create
    revision: str | None
    mail_numbers_left: int  # in the ledger's ranges plus a configured range it lacks


@contextmanager
def _connected(url: URL) -> Iterator[Connection]:
    """A connection for reading; an unreachable ledger is a LedgerError naming the fix."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            yield conn
    except sa.exc.OperationalError as exc:
        reason = str(getattr(exc, "orig", "")).split("\n")[0][:160]
        raise LedgerError(f"ledger at {safe_url(url)} cannot be reached ({reason}); "
                          "check --ledger, the server and the credentials") from None
    finally:
        engine.dispose()


def look(url: str, configured_range: str | None) -> LedgerLook:
    """Reach the ledger read-only; LedgerError/ConfigError name the problem and the fix."""
    parsed = resolve_url(url)
    configured = 0
    first_last: tuple[int, int] | None = None
    if configured_range:
        first_last = parse_range(configured_range)
        configured = first_last[1] - first_last[0] + 1
    path = sqlite_path(url)
    if path is not None and not path.exists():
        folder = path.parent
        while not folder.exists() and folder != folder.parent:
            folder = folder.parent
        if not folder.is_dir():
            raise ConfigError(f"ledger folder {path.parent} cannot be created: {folder} is not a folder")
        return LedgerLook(exists=False, revision=None, mail_numbers_left=configured)
    with _connected(parsed) as conn:
        revision = migrate.current_revision(conn)
        migrate.check_revision(revision, conn.engine)
        if revision is None:
            return LedgerLook(exists=False, revision=None, mail_numbers_left=configured)
        rows = conn.execute(sa.text(
            f"SELECT first_body, last_body, next_body FROM {R_TABLE}")).all()
    left = sum(max(0, int(last) - int(nxt) + 1) for _first, last, nxt in rows)
    if first_last is not None and not any((int(f), int(la)) == first_last for f, la, _ in rows):
        left += configured
    return LedgerLook(exists=True, revision=revision, mail_numbers_left=left)


def check_key_read_only(url: str, key: LedgerKey) -> None:
    """Refuse (KeyMismatch, exit 2) a key an existing ledger would not issue under, reading
    only: a ledger that does not exist yet, or predates key binding, is bound by the run."""
    path = sqlite_path(url)
    if path is not None and not path.exists():
        return
    with _connected(resolve_url(url)) as conn:
        revision = migrate.current_revision(conn)
        if revision is None or revision < KEYS_REVISION:
            return
        keys.check(conn, key)
