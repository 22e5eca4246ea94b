"""Keys bound to the ledger: the first issuing key is registered; another key, a DEMO key on
a production ledger (and the reverse) are refused before anything changes; rotation is
explicit and audited; key ids are validated."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from core.errors import KeyFileError, KeyMismatch
from core.keys import KeyMaterial, key_check_value, validate_key_id
from ledger import keys, numbers
from ledger.keys import known_keys
from tests.helpers.ledger_data import codes
from tests.helpers.ledger_snapshot import snapshot

A = KeyMaterial("k-2026-12-01-aaaaaa", bytes(range(32)), "2026-12-01T00:00:00+00:00", False)
B = KeyMaterial("k-2026-12-01-bbbbbb", bytes(range(1, 33)), "2026-12-01T00:00:00+00:00", False)
DEMO = KeyMaterial("k-2026-12-01-dddddd", bytes(range(2, 34)), "", True)


def _url(ledger) -> str:
    return ledger.url.render_as_string(hide_password=False)


def test_first_key_is_registered_then_only_it_is_accepted(ledger):
    keys.bind_key(ledger, A)
    keys.bind_key(ledger, A)  # idempotent
    (row,) = known_keys(ledger)
    assert row["key_id"] == A.key_id and row["status"] == "current" and not row["is_demo"]
    assert row["check_value"] == A.check_value == key_check_value(A.secret)
    assert A.secret.hex() not in repr(row)
    before = snapshot(_url(ledger))
    for other, words in ((B, "not a key of this ledger"), (DEMO, "DEMO key on a production")):
        with pytest.raises(KeyMismatch) as info:
            keys.bind_key(ledger, other)
        assert words in str(info.value) and info.value.exit_code == 2
        with pytest.raises(KeyMismatch):
            with ledger.read() as conn:
                keys.check(conn, other)
    # the same key id with another secret: the check value gives it away
    impostor = KeyMaterial(A.key_id, B.secret, "", False)
    with pytest.raises(KeyMismatch, match="check value differs"):
        keys.bind_key(ledger, impostor)
    assert snapshot(_url(ledger)) == before


def test_a_production_key_is_refused_on_a_demo_ledger(ledger):
    keys.bind_key(ledger, DEMO)
    with pytest.raises(KeyMismatch, match="production key on a DEMO ledger"):
        keys.bind_key(ledger, A)


def test_reissue_with_another_key_changes_nothing(ledger, run_id):
    from transforms.numbering import derive_my_numbers

    keys.bind_key(ledger, A)
    c = codes(0, 3)
    frame = c.to_frame().with_columns(derive_my_numbers(c, A.secret, 0), generation=0)
    numbers.commit(ledger, run_id, frame, A.key_id)
    before = snapshot(_url(ledger))
    for other in (B, DEMO):
        with pytest.raises(KeyMismatch):
            numbers.reissue(ledger, c[0], "leak", other)
    assert snapshot(_url(ledger)) == before
    assert numbers.reissue(ledger, c[0], "leak", A).generation == 1


def test_rotation_is_explicit_audited_and_never_reuses_a_key(ledger):
    keys.bind_key(ledger, A)
    with pytest.raises(KeyMismatch):  # the current key must be shown to rotate
        keys.rotate(ledger, B, KeyMaterial("k-2026-12-01-cccccc", bytes(range(3, 35)), "", False), "x")
    with pytest.raises(KeyMismatch, match="never mixes"):
        keys.rotate(ledger, A, DEMO, "why")
    keys.rotate(ledger, A, B, "yearly rotation")
    keys.bind_key(ledger, B)
    with pytest.raises(KeyMismatch, match="retired key"):
        keys.bind_key(ledger, A)
    with pytest.raises(KeyMismatch, match="never reused"):
        keys.rotate(ledger, B, A, "back again")
    rows = {r["key_id"]: r for r in known_keys(ledger)}
    assert rows[A.key_id]["status"] == "retired" and rows[A.key_id]["retired_by"] == "test-operator"
    assert rows[B.key_id]["status"] == "current"
    with ledger.engine.connect() as conn:
        entry = conn.execute(sa.text("SELECT subject, why FROM audit_log "
                                     "WHERE action = 'rotate_key'")).one()
    assert A.key_id in entry.subject and B.key_id in entry.subject and entry.why == "yearly rotation"


def test_two_current_keys_are_refused_by_the_schema(ledger):
    keys.bind_key(ledger, A)
    with pytest.raises(sa.exc.IntegrityError), ledger.engine.begin() as conn:
        conn.execute(sa.text(
            "INSERT INTO ledger_keys (key_id, check_value, is_demo, status, key_created, "
            "registered_at, registered_by) VALUES ('k-x', 'ab', false, 'current', '', "
            "CURRENT_TIMESTAMP, 'x')"))
    with pytest.raises(sa.exc.DBAPIError), ledger.engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM ledger_keys"))


@pytest.mark.parametrize("key_id", ["", "ab", "has space", "k/1", "x" * 65, "-lead", "k-é"])
def test_malformed_key_ids_are_refused(key_id):
    with pytest.raises(KeyFileError, match="key_id must be"):
        validate_key_id(key_id)


def test_a_key_id_holding_the_key_is_refused():
    secret = bytes(range(32)).hex()
    for key_id in (secret, f"k-{secret[10:18]}", f"k-{secret[40:60].upper()}"):
        with pytest.raises(KeyFileError, match="part of the key") as info:
            validate_key_id(key_id, secret)
        assert secret not in str(info.value) and secret[10:18] not in str(info.value)
    assert validate_key_id("k-2026-12-01-3f9a1c", secret)  # a generated id is fine
