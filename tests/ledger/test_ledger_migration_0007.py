"""Migration 0007 on a ledger written by the code before it (37cb815, schema 0006): the
envelope's stored status and its history go, its status is derived from its notices, and
`ledger verify` still passes.

The rows are inserted as 37cb815's code wrote them: a run, numbers with their key, a
registered-mail range, envelopes recorded ``planned`` and moved to ``printed`` by
``set_mailing_status`` (with mailing_history rows), notices moved along their life (the
triggers write notice_history), and a chained audit log whose commit entries match the rows.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
import typer
from alembic import command
from typer.testing import CliRunner

from core.keys import KeyMaterial
from ledger import migrate, open_ledger, reporting
from ledger.chain import GENESIS, entry_hash
from ledger.engine import make_engine
from ledger.integrity import check_integrity
from ledger.schema import SCHEMA_HEAD
from transforms.numbering import derive_my_numbers

KEY = KeyMaterial("k-2026-12-01-bbbbbb", bytes(range(32)), "2026-12-01", False)
RUN = "run-20261201T000000-abcdefghij"
T0 = datetime(2026, 12, 1, 0, 0, tzinfo=UTC)
RMNS = ("36060000009", "36060000016", "36060000023", "36060000030")
#: each envelope's card life under 0006 (the stored mailings.status said printed or planned)
LIVES = (("printed", "mailed", "delivered"), ("printed", "mailed", "returned", "held"),
         ("printed",), ())


def _at(i: int) -> datetime:
    return T0 + timedelta(seconds=i)


def _audit(conn: sa.Connection, entries: list[tuple[str, str, str]]) -> None:
    """Chained entries, as ledger.store.Ledger._audit wrote them at 0006."""
    prev = GENESIS
    for i, (action, subject, why) in enumerate(entries):
        at = _at(100 + i)
        h = entry_hash(prev, at, "old-operator", action, subject, RUN, why)
        conn.execute(sa.text(
            "INSERT INTO audit_log (at, who, action, subject, run_id, why, prev_hash, entry_hash)"
            " VALUES (:at, 'old-operator', :a, :s, :r, :w, :p, :h)"),
            {"at": at, "a": action, "s": subject, "r": RUN, "w": why, "p": prev, "h": h})
        prev = h


def _ledger_at_0006(url: str) -> None:
    engine = make_engine(url)
    with engine.begin() as conn:
        command.upgrade(migrate.alembic_config(conn), "0006")
    codes = [f"{i:011d}" for i in range(4)]
    numbers = derive_my_numbers(codes, KEY.secret, 0).to_list()
    with engine.begin() as conn:
        x = conn.execute
        x(sa.text("INSERT INTO runs (run_id, kind, input_sha256, params, status, operator, "
                  "started_at, finished_at, counts) VALUES (:r, 'bulk', :h, '{}', 'succeeded', "
                  "'old-operator', :t, :t, '{}')"), {"r": RUN, "h": "0" * 64, "t": _at(0)})
        x(sa.text("INSERT INTO ledger_keys (key_id, check_value, is_demo, status, key_created, "
                  "registered_at, registered_by) VALUES (:k, :c, false, 'current', :kc, :t, "
                  "'old-operator')"),
          {"k": KEY.key_id, "c": KEY.check_value, "kc": KEY.created, "t": _at(1)})
        for code, number in zip(codes, numbers, strict=True):
            x(sa.text("INSERT INTO issued_numbers (my_number, resident_code, generation, status, "
                      "reason, run_id, key_id, issued_at) VALUES (:n, :c, 0, 'active', "
                      "'first_issue', :r, :k, :t)"),
              {"n": number, "c": code, "r": RUN, "k": KEY.key_id, "t": _at(2)})
        x(sa.text("INSERT INTO mail_number_ranges (first_body, last_body, next_body, created_at) "
                  "VALUES (3606000000, 3606000999, 3606000004, :t)"), {"t": _at(3)})
        for rmn in RMNS:
            x(sa.text("INSERT INTO registered_mail_numbers (registered_mail_number, range_id, "
                      "allocated_at) VALUES (:m, 1, :t)"), {"m": rmn, "t": _at(3)})
        for seq, (code, rmn, life) in enumerate(zip(codes, RMNS, LIVES, strict=True), start=1):
            stored = "printed" if life else "planned"
            x(sa.text("INSERT INTO mailings (household_id, batch_id, envelope_seq, "
                      "registered_mail_number, status, run_id, created_at, updated_at) VALUES "
                      "(:hh, 'B00001', :seq, :m, :st, :r, :t, :t)"),
              {"hh": f"H{seq:05d}", "seq": seq, "m": rmn, "st": stored, "r": RUN, "t": _at(4)})
            if life:
                x(sa.text("INSERT INTO mailing_history (mailing_id, status, run_id, at) VALUES "
                          "(:i, 'printed', :r, :t)"), {"i": seq, "r": RUN, "t": _at(6)})
            x(sa.text("INSERT INTO notices (number_id, resident_code, household_id, run_id, "
                      "batch_id, envelope_seq, registered_mail_number, is_manual, status, "
                      "created_at, updated_at, updated_by, updated_why) VALUES (:i, :c, :hh, :r, "
                      "'B00001', :seq, :m, false, 'planned', :t, :t, 'old-operator', 'planned')"),
              {"i": seq, "c": code, "hh": f"H{seq:05d}", "r": RUN, "seq": seq, "m": rmn,
               "t": _at(5)})
            for step, status in enumerate(life):
                x(sa.text("UPDATE notices SET status = :s, updated_at = :t, updated_why = :w "
                          "WHERE notice_id = :i"), {"s": status, "w": status, "t": _at(10 + step), "i": seq})
        _audit(conn, [("start_run", f"run {RUN} kind bulk", ""),
                      ("register_key", f"key {KEY.key_id} registered as current",
                       "first issuing run"),
                      ("commit_numbers", "4 number(s) written, 0 already present",
                       f"first_issue; key {KEY.key_id}"),
                      ("allocate_mail_numbers", "4 registered-mail number(s)", ""),
                      ("record_mailings", "4 envelope(s) recorded, 0 already present", ""),
                      ("plan_notices", "4 notice(s) planned", ""),
                      ("notice_printed", "3 notice(s) -> printed", "QA passed"),
                      ("set_mailing_status", f"batch B00001 of run {RUN}: 3 envelope(s) -> "
                       "printed", "")])
    engine.dispose()


def test_a_0006_ledger_upgrades_derives_envelope_statuses_and_verifies(ledger_url, tmp_path):
    _ledger_at_0006(ledger_url)
    led = open_ledger(ledger_url, operator="new-operator")  # an existing ledger moves to head
    assert led.revision == SCHEMA_HEAD == "0007"
    with led.read() as conn:
        inspector = sa.inspect(conn)
        assert "mailing_history" not in inspector.get_table_names()
        assert {c["name"] for c in inspector.get_columns("mailings")} == {
            "mailing_id", "household_id", "batch_id", "envelope_seq", "registered_mail_number",
            "run_id", "created_at"}
    # before, all three printed envelopes read "printed"; now each reads its card's state
    assert reporting.stats(led)["mailings"] == {"planned": 1, "printed": 1, "delivered": 1,
                                                "held": 1}
    result = check_integrity(led, key=KEY)
    assert result.success, result.rules
    led.close()

    from cli.commands.ledger import register

    app = typer.Typer()
    register(app)
    key_path = tmp_path / "key.json"
    key_path.write_text(json.dumps({"key_id": KEY.key_id, "key_hex": KEY.secret.hex()}))
    key_path.chmod(0o600)
    verified = CliRunner().invoke(app, ["ledger", "verify", "--ledger", ledger_url,
                                        "--key", str(key_path)])
    assert verified.exit_code == 0, verified.output
    stats = CliRunner().invoke(app, ["ledger", "stats", "--json", "--ledger", ledger_url])
    assert stats.exit_code == 0, stats.output
    assert json.loads(stats.output)["mailings"]["delivered"] == 1


def test_0007_downgrades_to_the_stored_status(ledger_url):
    _ledger_at_0006(ledger_url)
    open_ledger(ledger_url, operator="new-operator").close()
    engine = make_engine(ledger_url)
    with engine.begin() as conn:
        command.downgrade(migrate.alembic_config(conn), "0006")
    with engine.connect() as conn:
        stored = conn.execute(sa.text(
            "SELECT status FROM mailings ORDER BY envelope_seq")).scalars().all()
        history = conn.execute(sa.text("SELECT count(*) FROM mailing_history")).scalar_one()
    engine.dispose()
    assert stored[3] == "planned" and stored[2] == "printed" and history == 0
    assert set(stored) <= {"planned", "printed", "mailed", "returned", "held", "re-sent",
                           "destroyed"}


def test_the_upgrade_is_idempotent(ledger_url):
    _ledger_at_0006(ledger_url)
    assert open_ledger(ledger_url, operator="a").revision == SCHEMA_HEAD
    assert open_ledger(ledger_url, operator="b").revision == SCHEMA_HEAD
