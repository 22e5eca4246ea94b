"""Migration 0002 on a ledger written before it: the existing audit entries are chained,
the key ids already used are registered (bound on first use), and verify passes; the
downgrade removes what 0002 added."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import command

from core.keys import KeyMaterial
from ledger import LedgerHandle, keys, migrate, open_ledger
from ledger.engine import make_engine
from ledger.integrity import check_integrity
from ledger.keys import known_keys
from ledger.schema import SCHEMA_HEAD

KEY = KeyMaterial("k-2026-11-26-aaaaaa", bytes(range(32)), "", False)


def _at_0001(url: str) -> LedgerHandle:
    engine = make_engine(url)
    with engine.begin() as conn:
        command.upgrade(migrate.alembic_config(conn), "0001")
    with engine.begin() as conn:  # what the 0001-era program wrote
        conn.execute(sa.text(
            "INSERT INTO runs (run_id, kind, input_sha256, params, status, operator, started_at) "
            "VALUES ('run-old', 'bulk', :h, '{}', 'succeeded', 'old', CURRENT_TIMESTAMP)"),
            {"h": "0" * 64})
        from transforms.numbering import derive_my_numbers

        codes = [f"{i:011d}" for i in range(3)]
        numbers = derive_my_numbers(codes, KEY.secret, 0).to_list()
        for code, number in zip(codes, numbers, strict=True):
            conn.execute(sa.text(
                "INSERT INTO issued_numbers (my_number, resident_code, generation, status, "
                "reason, run_id, key_id, issued_at) VALUES (:n, :c, 0, 'active', 'first_issue', "
                "'run-old', :k, CURRENT_TIMESTAMP)"), {"n": number, "c": code, "k": KEY.key_id})
        for action, subject in (("start_run", "run run-old kind bulk"),
                                ("commit_numbers", "3 number(s) written, 0 already present")):
            conn.execute(sa.text(
                "INSERT INTO audit_log (at, who, action, subject, run_id, why) VALUES "
                "(CURRENT_TIMESTAMP, 'old', :a, :s, 'run-old', '')"), {"a": action, "s": subject})
    engine.dispose()
    return open_ledger(url, operator="old")  # an existing ledger is moved to head


def test_upgrade_chains_old_entries_and_registers_old_keys(ledger_url):
    led = _at_0001(ledger_url)
    assert led.revision == SCHEMA_HEAD
    (row,) = known_keys(led)
    assert row["key_id"] == KEY.key_id and row["status"] == "current" and row["check_value"] is None
    result = check_integrity(led, key=KEY)
    assert result.success, result.rules
    keys.bind_key(led, KEY)  # first use records the check value
    assert known_keys(led)[0]["check_value"] == KEY.check_value
    assert check_integrity(led, key=KEY).success


def test_downgrade_removes_what_0002_added(ledger_url):
    led = open_ledger(ledger_url, operator="unknown", create=True)
    with led.engine.begin() as conn:
        command.downgrade(migrate.alembic_config(conn), "0001")
    with led.engine.connect() as conn:
        inspector = sa.inspect(conn)
        assert "ledger_keys" not in inspector.get_table_names()
        assert {c["name"] for c in inspector.get_columns("audit_log")}.isdisjoint(
            {"prev_hash", "entry_hash"})
