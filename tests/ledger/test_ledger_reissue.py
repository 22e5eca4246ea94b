"""reissue: revoke and issue in one audited transaction; never reuse a number, even a revoked one."""

from __future__ import annotations

import polars as pl
import pytest
import sqlalchemy as sa

from core.errors import AlreadyIssued, InvalidFormat, KeyMismatch, NotIssued
from core.keys import KeyMaterial
from ledger import numbers, reporting
from tests.helpers.ledger_data import assert_no_values, derive, number_frame, zero_key
from tests.helpers.ledger_snapshot import snapshot
from transforms.numbering import derive_my_numbers


def _rows(ledger, code: str) -> list:
    with ledger.engine.connect() as conn:
        return conn.execute(sa.text(
            "SELECT generation, status, reason, my_number FROM issued_numbers "
            "WHERE resident_code = :c ORDER BY generation"), {"c": code}).all()


def test_reissue_revokes_and_issues_the_next_generation(ledger, run_id):
    frame = number_frame(0, 3)
    numbers.commit(ledger, run_id, frame, "k")
    code = frame["resident_code"][1]
    result = numbers.reissue(ledger, code, "leak reported by the resident", zero_key(), derive=derive)
    new = derive(pl.Series([code]), b"", 1)[0]
    assert result.generation == 1
    assert (result.last4_old, result.last4_new) == (frame["my_number"][1][-4:], new[-4:])
    assert_no_values(repr(result))
    assert [(g, s, r) for g, s, r, _ in _rows(ledger, code)] == [
        (0, "revoked", "first_issue"), (1, "active", "number_change")]
    with ledger.engine.connect() as conn:
        audit = conn.execute(sa.text("SELECT action, why FROM audit_log ORDER BY audit_id")).all()
    assert [a.action for a in audit][-2:] == ["revoke_number", "issue_number"]
    assert all("leak reported" in a.why for a in audit[-2:])
    for entry in audit:  # the audit log points at rows; it holds no code and no number
        assert_no_values(f"{entry.action} {entry.why}")
    with ledger.engine.connect() as conn:
        subjects = conn.execute(sa.text("SELECT subject FROM audit_log")).scalars().all()
    assert_no_values(" ".join(subjects))
    assert reporting.stats(ledger)["runs"].get("running", 0) >= 2  # reissue opened its own run


def test_reissue_skips_generations_whose_number_is_taken(ledger, run_id):
    """A forced collision: generation 1's number already belongs to someone else."""
    numbers.commit(ledger, run_id, number_frame(0, 1), "k")
    code = "00000000000"
    taken = derive(pl.Series([code]), b"", 1)
    numbers.record_existing(ledger, run_id, pl.DataFrame(
        {"resident_code": ["55555555555"], "my_number": taken}))
    result = numbers.reissue(ledger, code, "misuse feared", zero_key(), run_id, derive=derive)
    assert result.generation == 2
    assert result.last4_new == derive(pl.Series([code]), b"", 2)[0][-4:]
    with ledger.engine.connect() as conn:
        skips = conn.execute(sa.text("SELECT count(*) FROM audit_log WHERE action = "
                                     "'skip_generation'")).scalar()
    assert skips == 1


def test_a_revoked_number_is_never_given_again(ledger, run_id):
    frame = number_frame(0, 2)
    numbers.commit(ledger, run_id, frame, "k")
    old = frame.filter(pl.col("resident_code") == "00000000000")
    numbers.reissue(ledger, "00000000000", "leak", zero_key(), run_id, derive=derive)
    # re-running the original derivation: the revoked number is recognised, not re-activated
    assert numbers.commit(ledger, run_id, frame, "k").already_present == 2
    # nobody else can receive it either
    stolen = pl.DataFrame({"resident_code": ["77777777777"], "my_number": old["my_number"],
                           "generation": [0]})
    with pytest.raises(AlreadyIssued):
        numbers.commit(ledger, run_id, stolen, "k")
    # a second change walks past every generation the resident ever had
    assert numbers.reissue(ledger, "00000000000", "leak again", zero_key(), run_id, derive=derive).generation == 2
    statuses = [s for _, s, _, _ in _rows(ledger, "00000000000")]
    assert statuses == ["revoked", "revoked", "active"]


def test_reissue_needs_an_active_number(ledger, run_id):
    with pytest.raises(NotIssued) as info:
        numbers.reissue(ledger, "12345678901", "leak", zero_key(), run_id, derive=derive)
    assert_no_values(str(info.value))
    with pytest.raises(InvalidFormat):
        numbers.reissue(ledger, "123", "leak", zero_key(), run_id, derive=derive)


def test_reissue_with_the_real_derivation(ledger, run_id):
    key = zero_key()
    codes = pl.Series(["12345678906", "23456789012"])
    first = derive_my_numbers(codes, key.secret, 0)
    numbers.commit(ledger, run_id, pl.DataFrame(
        {"resident_code": codes, "my_number": first, "generation": [0, 0]}), key.key_id)
    result = numbers.reissue(ledger, "12345678906", "leak", key, run_id)
    expected = derive_my_numbers(codes.head(1), key.secret, 1)[0]
    assert result.generation == 1 and result.last4_new == expected[-4:]


def test_reissue_always_binds_the_key(ledger, run_id):
    """Issue 20: reissue skipped the key binding for a key without ``check_value``. Now the
    key is always checked: another key than the ledger's is refused and nothing changes."""
    numbers.commit(ledger, run_id, number_frame(0, 2), "k")
    numbers.reissue(ledger, "00000000000", "leak", zero_key(), run_id, derive=derive)
    url = ledger.url.render_as_string(hide_password=False)
    before = snapshot(url)
    other = KeyMaterial(key_id="k-test-0002", secret=b"\x01" * 32, created="2026-11-26",
                        is_demo=True)
    with pytest.raises(KeyMismatch):
        numbers.reissue(ledger, "00000000001", "leak", other, run_id, derive=derive)
    same_id = KeyMaterial(key_id="k-test-0001", secret=b"\x02" * 32, created="2026-11-26",
                          is_demo=True)
    with pytest.raises(KeyMismatch):
        numbers.reissue(ledger, "00000000001", "leak", same_id, run_id, derive=derive)


    class StandIn:  # what the old code let through unbound: an id and a secret, no check value
        key_id = "k-test-0001"
        secret = derivation_key = b"\x00" * 32

    with pytest.raises(AttributeError):
        numbers.reissue(ledger, "00000000001", "leak", StandIn(), run_id,  # type: ignore[arg-type]
                        derive=derive)
    assert snapshot(url) == before
    with ledger.read() as conn:
        bound = conn.execute(sa.text("SELECT key_id FROM ledger_keys")).scalars().all()
    assert bound == ["k-test-0001"]
