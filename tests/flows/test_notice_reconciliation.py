"""Every number reaches its holder: each way a run used to lose cards, re-run after the fix,
prints every active number's notice exactly once (real flows, SQLite and PostgreSQL)."""

from __future__ import annotations

import os
from pathlib import Path

import polars as pl
import pytest
import sqlalchemy as sa

from core.keys import generate_key_file
from ledger import mailings, notices, numbers, open_ledger, reporting
from pipeline.options import strip_ledger_password
from tests.helpers.flow_runs import make_opts
from tests.ledger.conftest import pg_url, sqlite_url  # noqa: F401 - fixtures

pytestmark = pytest.mark.xdist_group("prefect")
LONG_ADDRESS = "東京都練馬区豊玉北" + "一丁目" * 40  # runs off the address sheet: QA fails


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def backend(request, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'ledger.db'}"
    return strip_ledger_password(request.getfixturevalue("pg_url"), os.environ)


@pytest.fixture
def key(tmp_path) -> Path:
    path = tmp_path / "key.json"
    generate_key_file(path, demo=True)
    return path


def register(tmp: Path, rows: int, seed: int = 11, name: str = "register.csv") -> Path:
    from sample_data.generate import SampleParams, generate_register, write_export

    path = tmp / name
    write_export(generate_register(SampleParams(rows=rows, seed=seed)), path)
    return path


def with_changed_head(path: Path, out: Path, nth: int, **values: str) -> Path:
    frame = pl.read_csv(path, infer_schema=False)
    heads = frame.with_row_index("_i").filter(pl.col("relationship") == "世帯主")["_i"]
    at = pl.int_range(pl.len()) == heads[nth]
    frame = frame.with_columns(pl.when(at).then(pl.lit(v)).otherwise(pl.col(k)).alias(k)
                               for k, v in values.items())
    frame.write_csv(out)
    return out


def assert_every_number_printed_once(url: str) -> None:
    """Each active number this ledger issued has exactly one live notice, and it is printed;
    no number is on two printed, unvoided notices."""
    led = open_ledger(url, operator="unknown", create=True)
    with led.engine.connect() as conn:
        rows = conn.execute(sa.text(
            "SELECT i.number_id, "
            "  sum(CASE WHEN n.status NOT IN ('voided', 're_sent') THEN 1 ELSE 0 END), "
            "  sum(CASE WHEN n.status = 'printed' THEN 1 ELSE 0 END) "
            "FROM issued_numbers i LEFT JOIN notices n ON n.number_id = i.number_id "
            "WHERE i.status = 'active' AND i.key_id IS NOT NULL GROUP BY i.number_id")).all()
        manual = conn.execute(sa.text("SELECT count(*) FROM notices WHERE is_manual")).scalar()
    led.close()
    assert rows, "no numbers issued"
    machine = [(n, live, printed) for n, live, printed in rows]
    assert all(live == 1 for _, live, _ in machine), "a number without (or with two) live notices"
    unprinted = sum(1 for _, _, printed in machine if printed != 1)
    assert unprinted == manual, f"{unprinted - manual} number(s) not printed"


def run(register_path: Path, opts):
    from flows.issuance import run_bulk

    return run_bulk(str(register_path), opts)


def test_bulk_qa_failure_then_fixed_register_prints_the_rest(prefect_api, tmp_path, key, backend,
                                                            faults):
    """QA fails on one batch (its PDF damaged after rendering, as a bad disk would): the next
    run (a new folder, every resident already issued) prints that batch's notices, and only
    those. (An address too long to print no longer reaches QA: the plan diverts it.)"""
    from pipeline.report import exit_code

    good = register(tmp_path, 120)
    opts = make_opts(tmp_path, key, runner={"workers": 1}, ledger={"url": backend},
                     out_dir=str(tmp_path / "run1"))
    faults(damage_batch="B00001")
    first = run(good, opts)
    faults()
    assert first["qa"]["verdict"] == "fail" and exit_code(first) == 1
    assert first["notices"]["voided"] > 0 and not first["notices"]["all_printed"]
    second = run(good, opts.in_folder(tmp_path / "run2"))
    assert second["outcomes"]["already_issued"] == 120
    assert second["notices"]["planned"] == first["notices"]["voided"]
    assert second["notices_from_earlier_runs"] == second["notices"]["planned"]
    assert second["qa"]["verdict"] == "pass" and exit_code(second) == 0
    assert_every_number_printed_once(backend)
    third = run(good, opts.in_folder(tmp_path / "run3"))  # nothing left: prints nothing
    assert third["notices"]["planned"] == 0 and third["batches"] == 0 and exit_code(third) == 0


def test_registered_mail_range_exhausted_then_a_new_range(prefect_api, tmp_path, key, backend):
    """Planning runs out of registered-mail numbers after the numbers were committed; with a
    new range the re-run prints every card (it resumes the same ledger run)."""
    from pipeline.report import exit_code

    path = register(tmp_path, 60)
    tiny = make_opts(tmp_path, key, runner={"workers": 1}, ledger={"url": backend},
                     mail={"mail_range": "3606200000-3606200004"})
    with pytest.raises(Exception, match="exhausted"):
        run(path, tiny)
    led = open_ledger(backend, operator="unknown", create=True)
    assert reporting.stats(led)["numbers_total"] == 60 and notices.pending(led).height == 60
    mailings.add_range(led, 3606300000, 3606300999)
    led.close()
    again = run(path, make_opts(tmp_path, key, runner={"workers": 1}, ledger={"url": backend},
                                mail={"mail_range": "3606300000-3606300999"}))
    assert again["resumed"] and again["notices"]["all_printed"] and exit_code(again) == 0
    assert_every_number_printed_once(backend)


@pytest.mark.postgres
def test_too_long_household_id_on_postgresql(prefect_api, tmp_path, key, request):
    """A household id longer than the ledger's column (64) once made PostgreSQL refuse the plan
    after the commit; now the check quarantines that household's rows and the rest is issued
    and printed; the fixed register (a new run) issues and prints the held household."""
    from pipeline.report import exit_code

    url = strip_ledger_password(request.getfixturevalue("pg_url"), os.environ)
    good = register(tmp_path, 80)
    frame = pl.read_csv(good, infer_schema=False)
    first_hh = frame["household_id"][0]
    frame.with_columns(pl.when(pl.col("household_id") == first_hh).then(pl.lit("H" * 70))
                       .otherwise(pl.col("household_id")).alias("household_id")).write_csv(
        tmp_path / "long.csv")
    opts = make_opts(tmp_path, key, runner={"workers": 1}, ledger={"url": url},
                     out_dir=str(tmp_path / "run1"))
    held = int((frame["household_id"] == first_hh).sum())
    first = run(tmp_path / "long.csv", opts)
    assert first["outcomes"]["quarantined"] == held and first["outcomes"]["issued"] == 80 - held
    assert first["notices"]["all_printed"] and first["counts_add_up"]
    fixed = run(good, opts.in_folder(tmp_path / "run2"))
    assert fixed["outcomes"]["already_issued"] == 80 - held and fixed["outcomes"]["issued"] == held
    assert fixed["notices"]["all_printed"] and exit_code(fixed) == 0
    assert_every_number_printed_once(url)


def test_a_second_run_in_the_same_folder_never_reuses_its_batches(prefect_api, tmp_path, key,
                                                                 backend):
    """Day 2 pointed at day 1's --out: its batches continue the numbering instead of
    silently reusing day 1's verified folders (which made QA fail and the retry print nothing)."""
    from pipeline.report import exit_code

    out = str(tmp_path / "same")
    day1 = run(register(tmp_path, 60, seed=1, name="r1.csv"),
               make_opts(tmp_path, key, runner={"workers": 1}, ledger={"url": backend}, out_dir=out))
    day2 = run(register(tmp_path, 60, seed=2, name="r2.csv"),
               make_opts(tmp_path, key, runner={"workers": 1}, ledger={"url": backend}, out_dir=out))
    assert exit_code(day1) == 0 and exit_code(day2) == 0, day2["qa"]
    batches = sorted(p.name for p in (Path(out) / "batches").iterdir())
    assert len(batches) == day1["batches"] + day2["batches"]
    assert_every_number_printed_once(backend)


def test_a_number_change_leads_to_a_card_in_the_next_daily_run(prefect_api, tmp_path, key, backend):
    """`reissue` voids the unmailed card of the revoked number; QA of the old batch says the
    number was revoked since printing; the next daily run (about someone else) prints the
    new card; reconcile lists the old envelope to pull from the mail."""
    from core.clock import SystemClock
    from core.keys import load_key
    from flows.issuance import run_daily
    from mailroom.reconcile import reconcile
    from pipeline.report import exit_code
    from pipeline.stages.bookkeeping import QaLedger
    from qa import check_batch
    from qa.checks import REVOKED_SINCE
    from transforms.identifiers import resident_code as resident_code_id

    path = register(tmp_path, 60)
    opts = make_opts(tmp_path, key, runner={"workers": 1}, ledger={"url": backend},
                     out_dir=str(tmp_path / "bulk"))
    assert exit_code(run(path, opts)) == 0
    frame = pl.read_csv(path, infer_schema=False)
    head = frame.filter(pl.col("relationship") == "世帯主").row(2, named=True)
    led = open_ledger(backend, operator="counter", create=True)
    numbers.reissue(led, head["resident_code"], "leak reported", load_key(key))
    led.close()
    old_envelope = next(
        b for b in sorted(Path(opts.out_dir, "batches").iterdir())
        if head["resident_code"] in ";".join(pl.read_csv(b / "manifest.csv", infer_schema=False)
                                             ["resident_codes"].fill_null("")))
    with open_ledger(backend, operator="qa") as led:
        recheck = check_batch(old_envelope, ledger=QaLedger(led), plan=None, full_qr=False,
                              qr_sample_size=0, seed=0)
    rules = {f["rule"] for check in recheck["checks"].values() if isinstance(check, dict)
             for f in check.get("findings", [])}
    assert recheck["verdict"] == "fail" and REVOKED_SINCE in rules
    rec = reconcile(opts, SystemClock())
    assert rec["recently_pulled_envelopes"] and rec["without_notice"] >= 1
    with open_ledger(backend, operator="reader") as led:  # the whole envelope is pulled: its other cards are re-planned
        pulled = notices.all_notices(led, ["voided"])
    assert set(pulled["void_reason"]) <= {"number_revoked", "envelope_pulled"}
    assert rec["without_notice"] == pulled.height

    body = "9000000777"
    birth = {**frame.filter(pl.col("relationship") == "世帯主").row(5, named=True),
             "resident_code": body + str(resident_code_id.calc_check_digit(body)),
             "relationship": "子", "given_name": "陽葵", "given_name_kana": "ヒマリ",
             "date_of_birth": "2026-11-20", "my_number": "", "event": "birth",
             "event_date": "2026-11-25"}
    events = tmp_path / "events-2026-11-25.csv"
    pl.DataFrame([birth]).select([*frame.columns, "event", "event_date"]).write_csv(events)
    daily = run_daily(str(events), opts.with_changes(print={"issue_date": "2026-11-25"})
                      .in_folder(tmp_path / "day"))
    assert daily["outcomes"]["issued"] == 1 and exit_code(daily) == 0
    assert daily["notices"]["planned"] == 1 + pulled.height
    assert daily["notices_from_earlier_runs"] == pulled.height
    assert_every_number_printed_once(backend)
