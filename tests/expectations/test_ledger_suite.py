"""The GX uniqueness proof over the ledger (SQLite and PostgreSQL): passes on a good ledger,
catches crafted bad ones that bypass the code, and its result files hold no values."""

from __future__ import annotations

import json
import re

import polars as pl
import pytest
import sqlalchemy as sa
import typer
from typer.testing import CliRunner

from core.errors import AlreadyIssued
from core.keys import KeyMaterial
from expectations.ledger import RULES, run_ledger_suite
from ledger import keys, numbers, open_ledger, runs
from pipeline.stages.verify import verify_ledger as verify
from tests.helpers.postgres import fresh_schema_url
from transforms.identifiers.my_number import WEIGHTS

KEY_ID = "k-test-gx"


# --- fixtures (the ledger tests' conftest does not reach this directory) --------------------
@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def url(request, tmp_path):
    """A fresh empty database: a SQLite file, or a PostgreSQL schema dropped afterwards."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'ledger.db'}"
        return
    with fresh_schema_url("gx") as pg:
        yield pg


def _number(body: int) -> str:
    text = f"{body:011d}"
    r = sum(int(d) * w for d, w in zip(text, WEIGHTS, strict=True)) % 11
    return text + str(0 if r <= 1 else 11 - r)


def _frame(n: int, start: int = 0) -> pl.DataFrame:
    codes = [f"{start + i:011d}" for i in range(n)]
    return pl.DataFrame({"resident_code": codes,
                         "my_number": [_number((start + i) * 7919 + 12345) for i in range(n)],
                         "generation": [0] * n})


@pytest.fixture
def good(url):
    """A ledger with 120 numbers, one of them changed (so one revoked row)."""
    led = open_ledger(url, operator="gx-test", create=True)
    key = KeyMaterial(KEY_ID, bytes(range(32)), "", False)
    keys.bind_key(led, key)  # the ledger knows its key (ledger verify checks every key id)
    run = runs.start(led, "test", "0" * 64, {})
    frame = _frame(120)
    numbers.commit(led, run, frame, KEY_ID)
    numbers.reissue(led, frame["resident_code"][0], "a number change", key, run)  # one revoked row
    yield led, frame, run
    led.close()


def _assert_no_values(text: str, frame: pl.DataFrame) -> None:
    assert not re.findall(r"\d{11,12}", text), "a code- or number-like digit run in the result"
    for value in frame["my_number"].to_list() + frame["resident_code"].to_list():
        assert value not in text


def _failed(result) -> dict[str, int]:
    return {rule: r["unexpected_count"] for rule, r in result.rules.items() if not r["success"]}


def test_a_good_ledger_passes_and_the_result_file_holds_no_values(good, tmp_path):
    led, frame, _ = good
    path = tmp_path / "verify.json"
    result = verify(led, result_path=path)
    assert result.success and result.rows == 121
    assert set(result.rules) == set(RULES) and _failed(result) == {}
    text = path.read_text("utf-8")
    assert json.loads(text)["success"] is True
    _assert_no_values(text, frame)
    _assert_no_values(json.dumps(result.summary) + repr(result), frame)
    with led.engine.connect() as conn:
        last = conn.execute(sa.text("SELECT action, subject FROM audit_log "
                                    "ORDER BY audit_id DESC")).first()
    assert last.action == "verify" and "passed" in last.subject


def test_a_bad_check_digit_written_around_the_code_is_caught(good, tmp_path):
    led, frame, run = good
    bad = _number(5_000_000_000)
    bad = bad[:11] + str((int(bad[11]) + 1) % 10)
    with led.engine.begin() as conn:
        conn.execute(sa.text(
            "INSERT INTO issued_numbers (my_number, resident_code, generation, status, reason, "
            "run_id, key_id, issued_at) VALUES (:n, '99999999999', 0, 'active', 'first_issue', "
            ":r, 'k', CURRENT_TIMESTAMP)"), {"n": bad, "r": run})
    path = tmp_path / "bad.json"
    result = verify(led, result_path=path)
    assert not result.success and _failed(result) == {"my_number_check_digit": 1}
    _assert_no_values(path.read_text("utf-8"), frame.vstack(pl.DataFrame(
        {"resident_code": ["99999999999"], "my_number": [bad], "generation": [0]})))


def test_two_active_numbers_for_one_resident_are_caught(good):
    """The partial unique index is dropped in this scratch ledger to let the fault in."""
    led, frame, run = good
    with led.engine.begin() as conn:
        conn.execute(sa.text("DROP INDEX uq_issued_numbers_one_active_per_resident"))
        conn.execute(sa.text(
            "INSERT INTO issued_numbers (my_number, resident_code, generation, status, reason, "
            "run_id, key_id, issued_at) VALUES (:n, :c, 5, 'active', 'first_issue', :r, 'k', "
            "CURRENT_TIMESTAMP)"), {"n": _number(77_777_777_777), "c": frame["resident_code"][5],
                                    "r": run})
    result = verify(led)
    assert not result.success and _failed(result) == {"one_active_per_resident": 2}


def test_a_forced_collision_is_caught_by_the_constraint_and_by_the_proof(url, tmp_path):
    """A tiny test domain: a 'derivation' with only 3 outputs must collide."""
    tiny = pl.DataFrame({"resident_code": [f"{i:011d}" for i in range(10)],
                         "my_number": [_number(i % 3) for i in range(10)], "generation": [0] * 10})
    led = open_ledger(url, operator="unknown", create=True)
    run = runs.start(led, "test", "0" * 64, {})
    with pytest.raises(AlreadyIssued):  # the ledger refuses the set...
        numbers.commit(led, run, tiny, KEY_ID)
    numbers.commit(led, run, tiny.head(3), KEY_ID)
    with pytest.raises(sa.exc.IntegrityError), led.engine.begin() as conn:  # ...so does the schema
        conn.execute(sa.text(
            "INSERT INTO issued_numbers (my_number, resident_code, generation, status, reason, "
            "run_id, issued_at) VALUES (:n, :c, 0, 'active', 'first_issue', :r, CURRENT_TIMESTAMP)"),
            {"n": tiny["my_number"][3], "c": tiny["resident_code"][3], "r": run})
    led.close()
    # ...and GX catches it where no constraint exists: a scratch table without any
    scratch = sa.create_engine(url)
    with scratch.begin() as conn:
        conn.execute(sa.text("CREATE TABLE scratch_numbers (my_number VARCHAR(20), "
                             "resident_code VARCHAR(11), status VARCHAR(8))"))
        rows = [{"n": n, "c": c, "s": "active"} for c, n in zip(tiny["resident_code"], tiny["my_number"], strict=True)]
        rows.append({"n": "ABCDEFGHIJKL", "c": "00000000099", "s": "active"})  # not digits at all
        conn.execute(sa.text("INSERT INTO scratch_numbers VALUES (:n, :c, :s)"), rows)
    scratch.dispose()
    path = tmp_path / "scratch.json"
    result = run_ledger_suite(url, table="scratch_numbers", result_path=path)
    assert not result.success
    assert _failed(result) == {"my_number_unique": 10, "my_number_12_digits": 1,
                               "my_number_check_digit": 1}
    _assert_no_values(path.read_text("utf-8"), tiny)


def test_cli_verify_exits_1_when_the_proof_fails(good, tmp_path):
    from cli.commands.ledger import register

    led, frame, run = good
    app = typer.Typer()
    register(app)
    url = led.url.render_as_string(hide_password=False)
    ok = CliRunner().invoke(app, ["ledger", "verify", "--ledger", url, "--operator", "cli"])
    assert ok.exit_code == 0, ok.output
    assert "one_active_per_resident" in ok.output
    _assert_no_values(ok.output, frame)
    with led.engine.begin() as conn:
        conn.execute(sa.text("DROP INDEX uq_issued_numbers_one_active_per_resident"))
        conn.execute(sa.text(
            "INSERT INTO issued_numbers (my_number, resident_code, generation, status, reason, "
            "run_id, issued_at) VALUES (:n, :c, 9, 'active', 'first_issue', :r, CURRENT_TIMESTAMP)"),
            {"n": _number(66_666_666_666), "c": frame["resident_code"][7], "r": run})
    bad = CliRunner().invoke(app, ["ledger", "verify", "--ledger", url,
                                   "--result", str(tmp_path / "r.json")])
    assert bad.exit_code == 1, bad.output
    assert "FAIL" in bad.output
    _assert_no_values((tmp_path / "r.json").read_text("utf-8"), frame)
