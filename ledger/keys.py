"""Keys bound to the ledger: which keys it has issued under, and which one is current.

The first issuing run registers its key (key id, key check value, DEMO or not). From then
on every issuing command (bulk, daily, reissue) must hold the current key: the check value
of the loaded key must equal the registered one, before anything is written. Another key,
a DEMO key on a production ledger or the reverse is refused (`KeyMismatch`, exit 2) and
nothing changes. ``rotate`` makes another key current, audited; numbers already issued keep
their key id (see docs/architecture.md, Key rotation). Messages name key ids, never a key.
"""

from __future__ import annotations

from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from core.errors import KeyMismatch, LedgerError
from core.keys import BlockCipher

from .handle import LedgerHandle, WriteContext
from .schema import ledger_keys

K = ledger_keys.c


class LedgerKey(Protocol):
    """What the ledger needs of a loaded key (core.keys.KeyMaterial, core.hsm.TokenKey)."""

    @property
    def key_id(self) -> str: ...
    @property
    def is_demo(self) -> bool: ...
    @property
    def created(self) -> str: ...
    @property
    def check_value(self) -> str: ...


class IssuingKey(LedgerKey, Protocol):
    """A loaded key that can also derive numbers (what reissue and verify --key need)."""

    @property
    def derivation_key(self) -> bytes | BlockCipher: ...


def current_key(conn: Connection) -> dict[str, Any] | None:
    row = conn.execute(sa.select(ledger_keys).where(K.status == "current")).mappings().first()
    return dict(row) if row is not None else None


def check(conn: Connection, key: LedgerKey) -> dict[str, Any] | None:
    """Refuse a key that is not the ledger's current one; the current row (None: no key yet)."""
    current = current_key(conn)
    if current is None:
        known = conn.execute(sa.select(sa.func.count()).select_from(ledger_keys)).scalar_one()
        if known:
            raise KeyMismatch("the ledger has no current key (all are retired); "
                              "make one current with `mynumber key rotate`")
        return None
    label = "DEMO" if key.is_demo else "production"
    if bool(current["is_demo"]) != bool(key.is_demo):
        ledger_label = "DEMO" if current["is_demo"] else "production"
        raise KeyMismatch(f"refused: a {label} key on a {ledger_label} ledger "
                          f"(key {key.key_id}, ledger key {current['key_id']}); nothing was changed")
    if current["key_id"] != key.key_id:
        retired = conn.execute(sa.select(K.status).where(K.key_id == key.key_id)).scalar()
        why = "a retired key of this ledger" if retired else "not a key of this ledger"
        raise KeyMismatch(f"refused: key {key.key_id} is {why}; the ledger issues under key "
                          f"{current['key_id']} (rotation: `mynumber key rotate`); nothing was changed")
    if current["check_value"] is not None and current["check_value"] != key.check_value:
        raise KeyMismatch(f"refused: the loaded key has the key id {key.key_id} but is not the "
                          "key the ledger registered under that id (check value differs); "
                          "nothing was changed")
    return current


def bind(w: WriteContext, key: LedgerKey, run_id: str | None) -> None:
    """Inside a write transaction: check the key; register it when the ledger has none; give
    a key id found before migration 0002 its check value on first use."""
    conn = w.conn
    current = check(conn, key)
    if current is None:
        conn.execute(sa.insert(ledger_keys).values(
            key_id=key.key_id, check_value=key.check_value, is_demo=bool(key.is_demo),
            status="current", key_created=key.created or "", registered_at=w.now(),
            registered_by=w.operator))
        w.audit("register_key", f"key {key.key_id} registered as current"
                      f"{' (DEMO)' if key.is_demo else ''}", "first issuing run", run_id)
    elif current["check_value"] is None:
        conn.execute(sa.update(ledger_keys).where(K.key_id == key.key_id)
                     .values(check_value=key.check_value, is_demo=bool(key.is_demo)))
        w.audit("bind_key", f"key {key.key_id} check value recorded",
                      "key id from before key binding, first use", run_id)


def bind_key(handle: LedgerHandle, key: LedgerKey, run_id: str | None = None) -> None:
    """`bind` in its own transaction (an issuing run calls it before it starts)."""
    with handle.write("ledger_keys") as w:
        bind(w, key, run_id)


def rotate(handle: LedgerHandle, current: LedgerKey, new: LedgerKey, why: str) -> None:
    """Make ``new`` the current key; ``current`` must be the current one (proof of holding
    it). DEMO and production never mix; a key the ledger knew is never made current again."""
    if not why or not why.strip():
        raise LedgerError("key rotation needs a reason (it goes to the audit log)")
    if new.key_id == current.key_id or new.check_value == current.check_value:
        raise KeyMismatch("refused: the new key is the current key")
    if bool(new.is_demo) != bool(current.is_demo):
        raise KeyMismatch("refused: rotation never mixes DEMO and production keys")
    with handle.write("ledger_keys") as w:
        conn = w.conn
        bind(w, current, None)
        known = conn.execute(sa.select(K.key_id).where(
            sa.or_(K.key_id == new.key_id, K.check_value == new.check_value))).first()
        if known is not None:
            raise KeyMismatch(f"refused: key {new.key_id} (or a key with the same check value) "
                              "is already known to this ledger; a retired key is never reused")
        now = w.now()
        conn.execute(sa.update(ledger_keys).where(K.status == "current").values(
            status="retired", retired_at=now, retired_by=w.operator))
        conn.execute(sa.insert(ledger_keys).values(
            key_id=new.key_id, check_value=new.check_value, is_demo=bool(new.is_demo),
            status="current", key_created=new.created or "", registered_at=now,
            registered_by=w.operator))
        w.audit("rotate_key", f"key {current.key_id} retired, key {new.key_id} current",
                      why, None)


def known_keys(handle: LedgerHandle) -> list[dict[str, Any]]:
    """Every key the ledger knows (key id, check value, DEMO, status, when, who)."""
    with handle.read() as conn:
        return [dict(r) for r in conn.execute(
            sa.select(ledger_keys).order_by(K.registered_at, K.key_id)).mappings()]
