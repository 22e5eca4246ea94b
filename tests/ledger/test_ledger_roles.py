"""Least privilege on PostgreSQL: connected as each role, it can do exactly its job.

Role names are cluster-wide: each test uses its own prefix and drops its roles afterwards."""

from __future__ import annotations

import uuid

import polars as pl
import pytest
import sqlalchemy as sa

from core.keys import KeyMaterial
from ledger import events, keys, mailings, notices, numbers, open_ledger, reporting, runs
from ledger.roles import ROLES, grant_roles
from tests.helpers.ledger_data import codes
from transforms.numbering import derive_my_numbers

pytestmark = pytest.mark.postgres
KEY = KeyMaterial("k-2026-12-01-aaaaaa", bytes(range(32)), "", False)


@pytest.fixture
def roles(pg_url):
    """The ledger (as its owner) with 20 numbers, the four roles, and one login per role."""
    prefix = f"t{uuid.uuid4().hex[:8]}_"
    owner = open_ledger(pg_url, operator="owner", create=True)
    keys.bind_key(owner, KEY)
    run = runs.start(owner, "bulk", "0" * 64, {})
    c = codes(0, 20)
    frame = c.to_frame().with_columns(derive_my_numbers(c, KEY.secret, 0),
                                      pl.lit(0).alias("generation"))
    numbers.commit(owner, run, frame, KEY.key_id)
    mailings.add_range(owner, 3606000000, 3606000999)
    mails = mailings.allocate(owner, 2, run)
    envelopes = pl.DataFrame({
        "household_id": ["H1", "H2"], "batch_id": ["B00001"] * 2, "envelope_seq": [1, 2],
        "registered_mail_number": mails})
    mailings.record(owner, run, envelopes)
    notices.record(owner, run, envelopes.with_columns(resident_code=c.head(2),
                                                      is_manual=pl.lit(False)))
    assert grant_roles(owner, prefix) == [f"{prefix}{r}" for r in ROLES]
    assert grant_roles(owner, prefix)  # idempotent
    base = sa.engine.make_url(pg_url)
    urls = {}
    with owner.engine.begin() as conn:
        for role in ROLES:
            login, password = f"{prefix}u_{role}", uuid.uuid4().hex
            conn.exec_driver_sql(f"CREATE ROLE {login} LOGIN PASSWORD '{password}' "
                                 f"IN ROLE {prefix}{role}")
            urls[role] = base.set(username=login, password=password).render_as_string(
                hide_password=False)
    yield owner, urls, frame, run
    with owner.engine.begin() as conn:  # the schema's grants go with it; then the roles
        schema = conn.exec_driver_sql("SELECT current_schema()").scalar_one()
        conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        for role in ROLES:
            conn.exec_driver_sql(f"DROP ROLE {prefix}u_{role}")
    drop_roles(owner, prefix)
    owner.close()


def drop_roles(ledger, prefix: str) -> None:
    """Remove what `grant_roles` granted at database level and drop the four roles (the
    schema's own grants go with the schema)."""
    names = [f"{prefix}{r}" for r in ROLES]
    with ledger.write() as w:
        conn = w.conn
        conn.exec_driver_sql("SELECT pg_advisory_xact_lock(1836674932, 0)")
        database = conn.exec_driver_sql("SELECT current_database()").scalar_one()
        conn.exec_driver_sql(f'REVOKE ALL ON DATABASE "{database}" FROM {", ".join(names)}')
        for name in names:
            conn.exec_driver_sql(f"DROP ROLE IF EXISTS {name}")


def _can(url: str, sql: str, **params) -> bool:
    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text(sql), params)
        return True
    except sa.exc.ProgrammingError as exc:
        assert "permission denied" in str(exc.orig) or "must be owner" in str(exc.orig), exc.orig
        return False
    finally:
        engine.dispose()


def _rows(url: str, sql: str, **params) -> list:
    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            return list(conn.execute(sa.text(sql), params))
    finally:
        engine.dispose()


INSERT_NUMBER = ("INSERT INTO issued_numbers (my_number, resident_code, generation, status, "
                 "reason, run_id, key_id, issued_at) VALUES ('000000000019', '99999999999', 0, "
                 "'active', 'first_issue', :r, 'x', CURRENT_TIMESTAMP)")


def test_issuer_issues_reissues_and_records_but_cannot_delete_or_rewrite_the_audit(roles):
    owner, urls, frame, run = roles
    issuer = open_ledger(urls["issuer"], operator="issuer-clerk")
    keys.bind_key(issuer, KEY)
    new_run = runs.start(issuer, "daily", "1" * 64, {})
    more = codes(100, 5)
    numbers.commit(issuer, new_run, more.to_frame().with_columns(
        derive_my_numbers(more, KEY.secret, 0), pl.lit(0).alias("generation")), KEY.key_id)
    assert numbers.reissue(issuer, frame["resident_code"][0], "leak", KEY, new_run).generation == 1
    events.record(issuer, new_run, pl.DataFrame({
        "resident_code": [more[0]], "event": ["birth"],
        "event_date": [__import__("datetime").date(2026, 12, 1)]}))
    issuer.close()
    url = urls["issuer"]
    assert not _can(url, "DELETE FROM audit_log")
    assert not _can(url, "UPDATE audit_log SET why = 'x'")
    assert not _can(url, "SELECT * FROM ledger_salt")
    assert not _can(url, "DROP TRIGGER issued_numbers_frozen ON issued_numbers")
    assert not _can(url, "CREATE ROLE someone")
    from ledger.integrity import check_integrity

    assert check_integrity(owner, key=KEY).success  # the issuer's entries chain


def test_print_reads_numbers_and_marks_printed_but_cannot_issue(roles):
    owner, urls, frame, run = roles
    url = urls["print"]
    printed = _rows(url, "SELECT my_number FROM issued_numbers WHERE status = 'active'")
    assert {r[0] for r in printed} == set(frame["my_number"])
    printer = open_ledger(url, operator="print-clerk")
    assert notices.mark_batch(printer, run, "B00001", "printed", "QA passed") == 2
    assert reporting.stats(owner)["mailings"] == {"printed": 2}  # the envelopes follow
    printer.close()
    assert not _can(url, INSERT_NUMBER, r=run)
    assert not _can(url, "UPDATE issued_numbers SET status = 'revoked', revoked_at = now()")
    assert not _can(url, "INSERT INTO ledger_keys (key_id, is_demo, status, key_created, "
                    "registered_at, registered_by) VALUES ('k-x', false, 'retired', '', now(), 'x')")
    assert not _can(url, "SELECT who, why FROM audit_log")
    from ledger.integrity import check_integrity

    assert check_integrity(owner).success


def test_qa_sees_masked_numbers_only_and_can_compare(roles):
    owner, urls, frame, _ = roles
    url = urls["qa"]
    assert not _can(url, "SELECT my_number FROM issued_numbers")
    assert not _can(url, "SELECT * FROM ledger_salt")
    masked = _rows(url, "SELECT resident_code, last4, number_hash FROM issued_numbers_masked "
                   "ORDER BY resident_code")
    assert len(masked) == 20
    expected = dict(zip(frame["resident_code"], frame["my_number"], strict=True))
    for code, last4, digest in masked:
        assert last4 == expected[code][-4:] and len(digest) == 64
        assert expected[code] not in digest
        (same,) = _rows(url, "SELECT number_hash(:n)", n=expected[code])[0]
        assert same == digest  # a number read off a page compares without seeing the ledger's
    (other,) = _rows(url, "SELECT number_hash('000000000019')")[0]
    assert other not in {d for _, _, d in masked}
    assert not _can(url, "UPDATE mailings SET household_id = 'H9'")
    assert not _can(url, "INSERT INTO audit_log (at, who, action, subject, why) "
                    "VALUES (now(), 'x', 'x', 'x', 'x')")


def test_auditor_reads_the_audit_log_and_counts_but_no_number(roles):
    owner, urls, frame, _ = roles
    url = urls["auditor"]
    actions = {r[0] for r in _rows(url, "SELECT action FROM audit_log")}
    assert {"commit_numbers", "grant_roles", "register_key"} <= actions
    counts = _rows(url, "SELECT status, reason, numbers FROM ledger_number_counts")
    assert counts == [("active", "first_issue", 20)]
    for sql in ("SELECT my_number FROM issued_numbers", "SELECT last4 FROM issued_numbers_masked",
                "SELECT number_hash('000000000019')", "SELECT * FROM mailings"):
        assert not _can(url, sql), sql
    assert not _can(url, "INSERT INTO audit_log (at, who, action, subject, why) "
                    "VALUES (now(), 'x', 'x', 'x', 'x')")
