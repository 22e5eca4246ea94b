"""The schema: built by migrations from nothing, equal to ledger.schema, and its rules hold
even when SQL bypasses this program (raw INSERT/UPDATE/DELETE)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from core.errors import SchemaTooNew
from ledger import LedgerHandle, migrate, numbers, open_ledger, reporting
from ledger.engine import make_engine
from ledger.schema import SCHEMA_HEAD, metadata
from tests.helpers.ledger_data import number_frame

REPO = Path(__file__).resolve().parents[2]


def test_migrations_from_nothing_match_the_schema(ledger_url):
    engine = make_engine(ledger_url)
    with engine.connect() as conn:
        assert migrate.current_revision(conn) is None  # empty database: no ledger yet
    engine.dispose()
    led = open_ledger(ledger_url, operator="unknown", create=True)
    assert led.revision == SCHEMA_HEAD == migrate.head_revision()
    assert open_ledger(ledger_url, operator="again", create=True).revision == SCHEMA_HEAD  # idempotent
    with led.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    # the partial index's WHERE is not compared by alembic; everything else must match
    assert diff == [], diff
    with led.engine.connect() as conn:
        indexes = {i["name"] for i in sa.inspect(conn).get_indexes("issued_numbers")}
    assert "uq_issued_numbers_one_active_per_resident" in indexes


def test_schema_too_new_is_refused(ledger, run_id):
    with ledger.engine.begin() as conn:
        conn.execute(sa.text("UPDATE alembic_version SET version_num = '9999_future'"))
    url = ledger.url.render_as_string(hide_password=False)
    with pytest.raises(SchemaTooNew) as info:
        open_ledger(url, operator="reader")
    assert "9999_future" in str(info.value) and "newer" in str(info.value)
    with pytest.raises(SchemaTooNew):
        open_ledger(url, operator="init", create=True)  # never "upgrade" what we do not understand
    with ledger.engine.connect() as conn:  # and nothing was changed
        assert conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar() == "9999_future"


def test_a_missing_ledger_is_refused_without_create(tmp_path, ledger_url):
    """Without create, open_ledger never makes an empty ledger to read from."""
    from core.errors import ConfigError, LedgerError

    path = tmp_path / "absent" / "ledger.db"
    with pytest.raises(ConfigError):
        open_ledger(f"sqlite:///{path}", operator="reader")
    assert not path.exists()
    make_engine(ledger_url).dispose()  # an empty database (SQLite: an empty file)
    with pytest.raises(LedgerError, match="ledger init"):
        open_ledger(ledger_url, operator="reader")


def test_init_works_from_any_directory_without_alembic_ini(tmp_path):
    """The migrations are found from the package itself (as when installed)."""
    url = f"sqlite:///{tmp_path / 'sub' / 'l.db'}"
    code = f"from ledger import open_ledger; print(open_ledger({url!r}, operator='t', create=True).revision)"
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True,
                          text=True, timeout=60,
                          env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO)})
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == SCHEMA_HEAD


def _raw(ledger: LedgerHandle, sql: str, **params) -> None:
    with ledger.engine.begin() as conn:
        conn.execute(sa.text(sql), params)


INSERT = ("INSERT INTO issued_numbers (my_number, resident_code, generation, status, reason, "
          "run_id, key_id, issued_at) VALUES (:n, :c, 0, :s, 'first_issue', :r, 'k', "
          "CURRENT_TIMESTAMP)")


def test_constraints_hold_when_python_is_bypassed(ledger, run_id):
    f = number_frame(1, 2)
    numbers.commit(ledger, run_id, f.head(1), "k")
    n0, c0 = f["my_number"][0], f["resident_code"][0]
    n1, c1 = f["my_number"][1], f["resident_code"][1]
    # the same number for another resident
    with pytest.raises(sa.exc.IntegrityError):
        _raw(ledger, INSERT, n=n0, c=c1, s="active", r=run_id)
    # a revoked duplicate is still a duplicate: numbers are never given twice
    with pytest.raises(sa.exc.IntegrityError):
        _raw(ledger, INSERT.replace("CURRENT_TIMESTAMP)", "CURRENT_TIMESTAMP)"), n=n0, c=c1,
             s="revoked", r=run_id)
    # a second active number for the same resident
    with pytest.raises(sa.exc.IntegrityError):
        _raw(ledger, INSERT, n=n1, c=c0, s="active", r=run_id)
    # not 12 characters
    with pytest.raises(sa.exc.IntegrityError):
        _raw(ledger, INSERT, n=n1[:11], c=c1, s="active", r=run_id)


@pytest.mark.parametrize("sql", [
    "DELETE FROM issued_numbers",
    "UPDATE issued_numbers SET my_number = '000000000000'",
    "UPDATE issued_numbers SET resident_code = '00000000000'",
    "DELETE FROM audit_log",
    "UPDATE audit_log SET why = 'rewritten'",
])
def test_history_cannot_be_rewritten(ledger, run_id, sql):
    numbers.commit(ledger, run_id, number_frame(1, 3), "k")
    with pytest.raises(sa.exc.DatabaseError):
        _raw(ledger, sql)
    assert reporting.stats(ledger)["numbers_total"] == 3


def test_a_revoked_number_stays_revoked(ledger, run_id):
    numbers.commit(ledger, run_id, number_frame(1, 1), "k")
    _raw(ledger, "UPDATE issued_numbers SET status = 'revoked', revoked_at = CURRENT_TIMESTAMP")
    with pytest.raises(sa.exc.DatabaseError):
        _raw(ledger, "UPDATE issued_numbers SET status = 'active', revoked_at = NULL")


def test_a_constraint_hit_inside_the_ledger_never_quotes_the_value(ledger, run_id):
    """The database's own message names the duplicate value; ours names the constraint."""
    from core.errors import AlreadyIssued
    from ledger.engine import write_transaction
    from tests.helpers.ledger_data import assert_no_values

    f = number_frame(1, 2)
    numbers.commit(ledger, run_id, f.head(1), "k")
    with pytest.raises(AlreadyIssued) as info, write_transaction(ledger.engine) as conn:
        conn.execute(sa.text(INSERT), {"n": f["my_number"][0], "c": f["resident_code"][1],
                                       "s": "active", "r": run_id})
    assert "issued_numbers" in str(info.value) or "uq_" in str(info.value)
    assert_no_values(str(info.value))
    assert info.value.__suppress_context__ and info.value.__cause__ is None


def test_a_writer_that_waits_too_long_gets_a_clear_error(ledger, run_id, monkeypatch):
    """Another writer holds the ledger: after the (here shortened) wait, LedgerError."""
    import ledger.engine as engine_mod
    from core.errors import LedgerError
    from ledger.engine import write_transaction

    monkeypatch.setattr(engine_mod, "SQLITE_BUSY_TIMEOUT_MS", 200)
    if ledger.engine.dialect.name == "sqlite":  # the busy timeout is set per connection
        waiting = open_ledger(ledger.url.render_as_string(hide_password=False), operator="late", create=True)
        ledger.close()
    else:
        waiting = ledger
    holder = open_ledger(ledger.url.render_as_string(hide_password=False), operator="holder", create=True)
    with write_transaction(holder.engine, "issued_numbers"):
        with pytest.raises(LedgerError) as info:
            numbers.commit(waiting, run_id, number_frame(5, 2), "k")
    assert "busy" in str(info.value)
    holder.close()
    assert numbers.commit(waiting, run_id, number_frame(5, 2), "k").inserted == 2
