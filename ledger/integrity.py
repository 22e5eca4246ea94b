"""Tamper evidence: the checks `ledger verify` adds to the GX proof.

Each rule yields a count of problems (never a value, a number or a code):

- ``audit_chain``: every audit entry's prev_hash is the hash of the entry before it and its
  entry_hash is its own (``ledger.chain``): an entry changed, inserted or deleted anywhere
  before the last one breaks it;
- ``audit_anchor`` (with an exported head, ``export_head``): the entry the head names is
  still there with the same hash and the same count of entries up to it: entries cut off
  the end, or a rewritten chain, break it;
- ``triggers_present``: the protective triggers exist (dropping them is how rows are edited);
- ``revocations_audited``: every revoked number row has its ``revoke_number`` entry;
- ``key_ids_known``: every key id on a number row is a key the ledger registered;
- ``rows_match_audit``: the number rows are as many as the audited commits and reissues
  wrote (a row inserted or deleted behind the program's back);
- ``verify_key_known`` and ``numbers_rederive`` (with a key): the key is one the ledger
  registered (same check value), and every row issued under it re-derives from its
  resident code, the key and its generation (a forged or edited row does not).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import polars as pl
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from transforms.numbering import derive_my_numbers

from .chain import GENESIS, canonical_time, entry_hash
from .handle import LedgerHandle
from .keys import IssuingKey
from .schema import audit_log, expected_trigger_names, issued_numbers, ledger_keys
from .staging import fetch_frame

#: how numbers are derived (a test may pass its own)
Derive = Callable[[pl.Series, Any, int], pl.Series]

A = audit_log.c
I = issued_numbers.c  # noqa: E741
_COMMIT = re.compile(r"^(\d+) number\(s\) written")
_REVOKED = re.compile(r"^number row (\d+) revoked$")
#: rows re-derived per call (bounded memory on a 125-million-row ledger)
REDERIVE_CHUNK = 1_000_000


@dataclass
class IntegrityResult:
    """Per rule: problems found (0 = pass) and what was checked; counts only."""

    rules: dict[str, dict[str, int]] = field(default_factory=dict)

    def add(self, rule: str, problems: int, checked: int) -> None:
        self.rules[rule] = {"problems": int(problems), "checked": int(checked)}

    @property
    def success(self) -> bool:
        return all(r["problems"] == 0 for r in self.rules.values())

    @property
    def failed_rules(self) -> list[str]:
        return [name for name, r in self.rules.items() if r["problems"]]


def _entries(conn: Connection) -> list[Any]:
    return list(conn.execute(sa.select(
        A.audit_id, A.at, A.who, A.action, A.subject, A.run_id, A.why, A.prev_hash, A.entry_hash,
    ).order_by(A.audit_id)))


def check_audit_chain(entries: list[Any]) -> int:
    """How many entries do not chain: wrong prev_hash or an entry_hash that is not theirs."""
    broken, prev = 0, GENESIS
    for e in entries:
        own = entry_hash(e.prev_hash or "", e.at, e.who, e.action, e.subject, e.run_id, e.why)
        if e.prev_hash != prev or e.entry_hash != own:
            broken += 1
        prev = e.entry_hash or ""
    return broken


def head(entries: list[Any]) -> dict[str, Any]:
    """The chain's head: what `mynumber ledger audit-head` exports (no personal data)."""
    last = entries[-1] if entries else None
    return {"format": "mynumber-audit-head-v1", "entries": len(entries),
            "audit_id": last.audit_id if last else None,
            "entry_hash": last.entry_hash if last else GENESIS,
            "at": canonical_time(last.at) if last else None}


def export_head(handle: LedgerHandle) -> dict[str, Any]:
    """The head of the chain as it is now (``mynumber ledger audit-head``)."""
    with handle.read() as conn:
        return head(_entries(conn))


def check_anchor(entries: list[Any], anchor: dict[str, Any]) -> int:
    """0 when the anchored entry is still there, with its hash and position; else 1."""
    if anchor.get("format") != "mynumber-audit-head-v1":
        return 1
    n, audit_id = anchor.get("entries"), anchor.get("audit_id")
    if n == 0:
        return 0
    if not isinstance(n, int) or n > len(entries):
        return 1
    e = entries[n - 1]
    return 0 if (e.audit_id == audit_id and e.entry_hash == anchor.get("entry_hash")) else 1


def _present_triggers(conn: Connection) -> set[str]:
    if conn.dialect.name == "sqlite":
        return {r[0] for r in conn.exec_driver_sql(
            "SELECT name FROM sqlite_master WHERE type = 'trigger'")}
    return {r[0] for r in conn.exec_driver_sql(
        "SELECT t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
        "WHERE c.relnamespace = current_schema()::regnamespace AND NOT t.tgisinternal "
        "AND t.tgenabled <> 'D'")}


def check_integrity(handle: LedgerHandle, *, anchor: dict[str, Any] | None = None,
                    key: IssuingKey | None = None, derive: Derive = derive_my_numbers
                    ) -> IntegrityResult:
    """Run every rule of the module docstring over the ledger (one read snapshot)."""
    result = IntegrityResult()
    with handle.read() as conn:
        entries = _entries(conn)
        result.add("audit_chain", check_audit_chain(entries), len(entries))
        if anchor is not None:
            result.add("audit_anchor", check_anchor(entries, anchor), 1)
        expected = expected_trigger_names(conn.dialect.name)
        result.add("triggers_present", len(expected - _present_triggers(conn)), len(expected))

        revoked = {int(r[0]) for r in conn.execute(
            sa.select(I.number_id).where(I.status == "revoked"))}
        audited = {int(m.group(1)) for e in entries if e.action == "revoke_number"
                   and (m := _REVOKED.match(e.subject))}
        result.add("revocations_audited", len(revoked - audited), len(revoked))

        unknown = conn.execute(sa.select(sa.func.count()).select_from(issued_numbers).where(
            I.key_id.is_not(None), I.key_id.not_in(sa.select(ledger_keys.c.key_id)))).scalar_one()
        keyed = conn.execute(sa.select(sa.func.count()).select_from(issued_numbers).where(
            I.key_id.is_not(None))).scalar_one()
        result.add("key_ids_known", unknown, keyed)

        rows = conn.execute(sa.select(sa.func.count()).select_from(issued_numbers)).scalar_one()
        written = sum(int(m.group(1)) for e in entries if e.action == "commit_numbers"
                      and (m := _COMMIT.match(e.subject)))
        written += sum(1 for e in entries if e.action == "issue_number")
        result.add("rows_match_audit", abs(rows - written), rows)

        if key is not None:
            # the key given must be one the ledger registered (else nothing would be checked)
            registered = conn.execute(sa.select(ledger_keys.c.check_value).where(
                ledger_keys.c.key_id == key.key_id)).first()
            known = registered is not None and registered[0] in (None, key.check_value)
            result.add("verify_key_known", 0 if known else 1, 1)
            bad, checked = _rederive(conn, key, derive)
            result.add("numbers_rederive", bad, checked)
    return result


def _rederive(conn: Connection, key: IssuingKey, derive: Derive) -> tuple[int, int]:
    """Rows issued under ``key`` whose number is not derive(code, key, generation)."""
    frame = fetch_frame(conn, sa.select(I.resident_code, I.my_number, I.generation)
                        .where(I.key_id == key.key_id).order_by(I.generation, I.resident_code),
                        {"resident_code": pl.Utf8, "my_number": pl.Utf8, "generation": pl.Int64})
    bad = 0
    for (generation,), group in frame.group_by("generation"):
        for start in range(0, group.height, REDERIVE_CHUNK):
            part = group.slice(start, REDERIVE_CHUNK)
            codes = part.get_column("resident_code")
            ok = codes.str.contains(r"^[0-9]{11}$").fill_null(False)
            bad += int((~ok).sum())
            derived = derive(codes.filter(ok), key.derivation_key, int(str(generation)))
            bad += int((derived != part.get_column("my_number").filter(ok)).sum())
    return bad, frame.height


def load_anchor(text: str) -> dict[str, Any]:
    """An exported head (JSON); a malformed one is an anchor that does not match."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        return {}
    return data if isinstance(data, dict) else {}
