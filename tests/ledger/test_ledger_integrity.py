"""Tamper evidence: each way of editing the ledger behind the program's back that issue 10
found makes `ledger verify` fail, naming the rule and counts, never a value."""

from __future__ import annotations

import json

import polars as pl
import pytest
import sqlalchemy as sa
import typer
from typer.testing import CliRunner

from core.keys import KeyMaterial
from ledger import keys, numbers, runs
from ledger.chain import GENESIS, entry_hash
from ledger.integrity import check_integrity, export_head
from ledger.schema import drop_triggers_for
from tests.helpers.ledger_data import assert_no_values, codes
from transforms.numbering import derive_my_numbers

KEY = KeyMaterial("k-2026-12-01-aaaaaa", bytes(range(32)), "", False)


@pytest.fixture
def issued(ledger):
    """50 numbers under KEY, one of them changed by a real reissue."""
    keys.bind_key(ledger, KEY)
    run = runs.start(ledger, "bulk", "0" * 64, {})
    c = codes(100, 50)
    frame = c.to_frame().with_columns(derive_my_numbers(c, KEY.secret, 0),
                                      pl.lit(0).alias("generation"))
    numbers.commit(ledger, run, frame, KEY.key_id)
    numbers.reissue(ledger, c[0], "leak reported", KEY, run)
    return ledger, frame, run


def _sql(ledger, sql: str, **params) -> None:
    with ledger.engine.begin() as conn:
        conn.execute(sa.text(sql), params)


def _failed(ledger, **kw) -> dict[str, int]:
    result = check_integrity(ledger, **kw)
    return {rule: r["problems"] for rule, r in result.rules.items() if r["problems"]}


def test_a_ledger_written_by_the_program_passes_every_rule(issued):
    ledger, _, _ = issued
    result = check_integrity(ledger, key=KEY, anchor=export_head(ledger))
    assert result.success, result.rules
    assert set(result.rules) == {"audit_chain", "audit_anchor", "triggers_present",
                                 "revocations_audited", "key_ids_known", "rows_match_audit",
                                 "verify_key_known", "numbers_rederive"}
    assert result.rules["numbers_rederive"]["checked"] == 51


def test_verify_with_a_key_the_ledger_does_not_know_fails(issued):
    ledger, _, _ = issued
    stranger = KeyMaterial("k-2026-12-01-ffffff", bytes(range(5, 37)), "", False)
    impostor = KeyMaterial(KEY.key_id, bytes(range(5, 37)), "", False)
    assert _failed(ledger, key=stranger) == {"verify_key_known": 1}  # would check 0 rows
    failed = _failed(ledger, key=impostor)
    assert failed["verify_key_known"] == 1 and failed["numbers_rederive"] == 51


def test_a_revocation_by_hand_without_audit_entry_fails(issued):
    ledger, frame, _ = issued
    _sql(ledger, "UPDATE issued_numbers SET status = 'revoked', revoked_at = CURRENT_TIMESTAMP "
         "WHERE resident_code = :c", c=frame["resident_code"][5])
    assert _failed(ledger) == {"revocations_audited": 1}


def test_a_forged_row_fails(issued):
    ledger, _, run = issued
    _sql(ledger, "INSERT INTO issued_numbers (my_number, resident_code, generation, status, "
         "reason, run_id, key_id, issued_at) VALUES ('000000000000', '99999999999', 0, 'active', "
         "'first_issue', :r, 'forged', CURRENT_TIMESTAMP)", r=run)
    assert _failed(ledger, key=KEY) == {"key_ids_known": 1, "rows_match_audit": 1}


def test_a_forged_row_under_the_real_key_id_fails_re_derivation(issued):
    ledger, _, run = issued
    _sql(ledger, "INSERT INTO issued_numbers (my_number, resident_code, generation, status, "
         "reason, run_id, key_id, issued_at) VALUES ('000000000019', '99999999999', 0, 'active', "
         "'first_issue', :r, :k, CURRENT_TIMESTAMP)", r=run, k=KEY.key_id)
    assert _failed(ledger, key=KEY) == {"rows_match_audit": 1, "numbers_rederive": 1}


def _drop_triggers(ledger) -> None:
    with ledger.engine.begin() as conn:
        for ddl in drop_triggers_for(conn.dialect.name):
            if "FUNCTION" not in ddl:
                conn.exec_driver_sql(ddl)


def test_after_drop_trigger_changed_numbers_deleted_rows_and_audit_entries_fail(issued):
    ledger, frame, _ = issued
    _drop_triggers(ledger)
    assert _failed(ledger)["triggers_present"] >= 5
    # a changed number (swapped for another valid-looking one)
    _sql(ledger, "UPDATE issued_numbers SET my_number = '000000000027' WHERE resident_code = :c",
         c=frame["resident_code"][7])
    assert _failed(ledger, key=KEY).get("numbers_rederive") == 1
    # a deleted number row
    _sql(ledger, "DELETE FROM issued_numbers WHERE resident_code = :c", c=frame["resident_code"][9])
    assert _failed(ledger).get("rows_match_audit") == 1
    # a deleted audit entry in the middle, and an edited one
    _sql(ledger, "DELETE FROM audit_log WHERE action = 'commit_numbers'")
    failed = _failed(ledger)
    assert failed.get("audit_chain") == 1 and failed.get("rows_match_audit") == 49  # 50 rows, 1 audited
    _sql(ledger, "UPDATE audit_log SET why = 'nothing to see' WHERE action = 'register_key'")
    assert _failed(ledger).get("audit_chain") == 2


def test_a_cut_or_rewritten_chain_fails_against_the_exported_head(issued):
    ledger, _, _ = issued
    head = export_head(ledger)
    with ledger.write() as w:
        w.audit("later", "an entry after the head", "")
    assert _failed(ledger, anchor=head) == {}  # the chain grew: the head is still in it
    _drop_triggers(ledger)
    # cut the tail (including the anchored entry): the chain itself still links up
    _sql(ledger, "DELETE FROM audit_log WHERE audit_id >= :i", i=head["audit_id"])
    failed = _failed(ledger, anchor=head)
    assert failed["audit_anchor"] == 1 and "audit_chain" not in failed
    assert failed["rows_match_audit"] == 1  # the cut held the reissue's issue_number entry


def test_a_chain_rewritten_from_scratch_fails_against_the_head(issued):
    ledger, _, _ = issued
    head = export_head(ledger)
    _drop_triggers(ledger)
    with ledger.engine.begin() as conn:  # forge every hash after editing an entry
        conn.execute(sa.text("UPDATE audit_log SET who = 'someone else'"))
        rows = conn.execute(sa.text("SELECT audit_id, at, who, action, subject, run_id, why "
                                    "FROM audit_log ORDER BY audit_id")).all()
        prev = GENESIS
        for r in rows:
            at = r.at if not isinstance(r.at, str) else __import__("datetime").datetime.fromisoformat(r.at)
            h = entry_hash(prev, at, r.who, r.action, r.subject, r.run_id, r.why)
            conn.execute(sa.text("UPDATE audit_log SET prev_hash = :p, entry_hash = :h "
                                 "WHERE audit_id = :i"), {"p": prev, "h": h, "i": r.audit_id})
            prev = h
    failed = _failed(ledger, anchor=head)
    assert "audit_chain" not in failed and failed["audit_anchor"] == 1


def test_cli_verify_exits_1_naming_rules_never_values(issued, tmp_path):
    from cli.commands.ledger import register

    ledger, frame, _ = issued
    app = typer.Typer()
    register(app)
    url = ledger.url.render_as_string(hide_password=False)
    key_path = tmp_path / "key.json"
    key_path.write_text(json.dumps({"key_id": KEY.key_id, "key_hex": KEY.secret.hex()}))
    key_path.chmod(0o600)
    head = tmp_path / "head.json"
    runner = CliRunner()
    made = runner.invoke(app, ["ledger", "audit-head", "--out", str(head), "--ledger", url])
    assert made.exit_code == 0, made.output
    assert runner.invoke(app, ["ledger", "audit-head", "--out", str(head), "--ledger", url]
                         ).exit_code != 0  # never overwritten
    ok = runner.invoke(app, ["ledger", "verify", "--ledger", url, "--anchor", str(head),
                             "--key", str(key_path)])
    assert ok.exit_code == 0, ok.output
    assert "numbers_rederive" in ok.output and "audit_anchor" in ok.output
    assert "verify_key_known" in ok.output
    _sql(ledger, "UPDATE issued_numbers SET status = 'revoked', revoked_at = CURRENT_TIMESTAMP "
         "WHERE resident_code = :c", c=frame["resident_code"][3])
    bad = runner.invoke(app, ["ledger", "verify", "--ledger", url, "--anchor", str(head),
                              "--key", str(key_path)])
    assert bad.exit_code == 1, bad.output
    assert "FAILED: revocations_audited" in bad.output
    assert_no_values(bad.output)
    assert KEY.secret.hex()[:16] not in bad.output
    for value in frame["my_number"].to_list() + frame["resident_code"].to_list():
        assert value not in bad.output
