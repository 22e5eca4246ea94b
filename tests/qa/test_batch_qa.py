"""check_batch end to end: real batches from layouts.batch, a real SQLite Ledger, tampering.

Each tampering must be caught by the named check; a clean batch passes; qa.json never
holds a full My Number, a resident code or a name.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pikepdf
import polars as pl
import pypdfium2 as pdfium
import pytest

from ledger import numbers as ledger_numbers
from ledger import open_ledger, runs
from pipeline.stages.bookkeeping import QaLedger
from qa import check_batch
from tests.helpers.qa_batches import make_numbers, make_plan, make_register, write

BATCH = "B00001"


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """(clean batch dir, plan, numbers, ledger) built once for the module."""
    root = tmp_path_factory.mktemp("qa_world")
    register = make_register(24, seed=11)
    plan = make_plan(register, batch_size=10)
    numbers = make_numbers(register["resident_code"], seed=12)
    write(root / "clean", plan, numbers, BATCH)
    ledger = open_ledger(f"sqlite:///{root / 'ledger.db'}", operator="qa-test", create=True)
    run_id = runs.start(ledger, "bulk", "0" * 64, {})
    ledger_numbers.commit(ledger, run_id, numbers, key_id="k-test")
    return root / "clean", plan, numbers, QaLedger(ledger)  # as the QA stage asks it


@pytest.fixture
def batch(world, tmp_path):
    clean, *_ = world
    target = tmp_path / BATCH
    shutil.copytree(clean, target)
    return target


def assert_private(batch_dir: Path, numbers: pl.DataFrame, plan: pl.DataFrame) -> None:
    """No full My Number (plain or formatted) in any file but cards.pdf; no code or name in qa.json."""
    full = numbers["my_number"].to_list()
    formatted = [f"{n[:4]} {n[4:8]} {n[8:]}" for n in full]
    for path in batch_dir.iterdir():
        if path.name == "cards.pdf":
            continue
        text = path.read_bytes().decode("utf-8", errors="replace")
        assert not any(n in text for n in full + formatted), path.name
    qa = (batch_dir / "qa.json").read_text(encoding="utf-8")
    assert not any(code in qa for code in plan["resident_code"].to_list())
    assert not any(name in qa for name in plan["family_name"].unique().to_list())


def rewrite_sums(batch_dir: Path) -> None:
    lines = [f"{hashlib.sha256((batch_dir / n).read_bytes()).hexdigest()}  {n}\n"
             for n in ("cards.pdf", "manifest.parquet", "manifest.csv")]
    (batch_dir / "SHA256SUMS").write_text("".join(lines), encoding="ascii")


def rewrite_manifest(batch_dir: Path, manifest: pl.DataFrame) -> None:
    from layouts.batch import manifest_csv_bytes
    manifest.write_parquet(batch_dir / "manifest.parquet")
    (batch_dir / "manifest.csv").write_bytes(manifest_csv_bytes(manifest))
    rewrite_sums(batch_dir)


def reorder_pdf(batch_dir: Path, order: list[int]) -> None:
    """Rebuild cards.pdf from the given 0-based page indices (swap, drop) and re-sum."""
    src = pdfium.PdfDocument(batch_dir / "cards.pdf")
    out = pdfium.PdfDocument.new()
    out.import_pages(src, order)
    tmp = batch_dir / "cards.new.pdf"
    out.save(tmp)
    out.close()
    src.close()
    tmp.replace(batch_dir / "cards.pdf")
    rewrite_sums(batch_dir)


def failed(report: dict) -> set[str]:
    return {name for name, c in report["checks"].items() if c["verdict"] == "fail"}


def manifest_of(batch_dir: Path) -> pl.DataFrame:
    return pl.read_parquet(batch_dir / "manifest.parquet")


def test_clean_batch_passes_with_real_ledger_and_plan(world, batch):
    _, plan, numbers, ledger = world
    report = check_batch(batch, ledger=ledger, plan=plan, full_qr=True)
    assert report["verdict"] == "pass", failed(report)
    assert all(c["verdict"] == "pass" for c in report["checks"].values())
    assert report["sampling"]["method"] == "full"
    assert report["sampling"]["pages_chosen"] == report["counts"]["member_pages"] > 0
    assert all(e["verdict"] == "pass" for e in report["envelopes"])
    assert json.loads((batch / "qa.json").read_text(encoding="utf-8")) == report
    assert_private(batch, numbers, plan)


def test_sampled_qr_and_skipped_checks_without_ledger_or_plan(world, batch):
    report = check_batch(batch, qr_sample_size=5, seed=3)
    assert report["verdict"] == "pass"
    assert report["checks"]["ledger_numbers"]["verdict"] == "skipped"
    assert report["checks"]["plan"]["verdict"] == "skipped"
    s = report["sampling"]
    assert (s["sample_size"], s["pages_chosen"], s["seed"]) == (5, 5, 3)
    assert s["population"] == report["counts"]["member_pages"]
    assert check_batch(batch, qr_sample_size=5, seed=3)["sampling"]["pages"] == s["pages"]


def test_swapped_pages_are_caught(world, batch):
    _, plan, numbers, ledger = world
    n = len(pdfium.PdfDocument(batch / "cards.pdf"))
    order = list(range(n))
    order[1], order[4] = order[4], order[1]
    reorder_pdf(batch, order)
    report = check_batch(batch, ledger=ledger, plan=plan)
    assert report["verdict"] == "fail"
    assert {"footers", "names"} <= failed(report)
    assert "sha256sums" not in failed(report)
    pages = {f["page"] for f in report["checks"]["footers"]["findings"]}
    assert pages == {2, 5}
    assert_private(batch, numbers, plan)


def test_dropped_page_is_caught(world, batch):
    _, plan, _, ledger = world
    n = len(pdfium.PdfDocument(batch / "cards.pdf"))
    reorder_pdf(batch, [i for i in range(n) if i != 2])
    report = check_batch(batch, ledger=ledger, plan=plan)
    assert {"page_count", "footers"} <= failed(report)


def test_manifest_pointing_at_the_wrong_household(world, batch):
    _, plan, numbers, ledger = world
    m = manifest_of(batch)
    other = m["household_id"][2]
    rewrite_manifest(batch, m.with_columns(
        household_id=pl.when(pl.col("envelope_seq") == m["envelope_seq"][1])
        .then(pl.lit(other)).otherwise(pl.col("household_id"))))
    report = check_batch(batch, ledger=ledger, plan=plan)
    assert {"footers", "plan"} <= failed(report)
    bad = {e["envelope_seq"] for e in report["envelopes"] if e["verdict"] == "fail"}
    assert bad == {int(m["envelope_seq"][1])}
    assert_private(batch, numbers, plan)


def test_wrong_application_id_in_manifest(world, batch):
    _, plan, _, ledger = world
    m = manifest_of(batch)
    first = pl.col("envelope_seq") == m["envelope_seq"][0]
    rewrite_manifest(batch, m.with_columns(application_ids=pl.when(first).then(
        pl.col("application_ids").list.eval(pl.lit("9" * 23))).otherwise(pl.col("application_ids"))))
    report = check_batch(batch, ledger=ledger, plan=plan, full_qr=True)
    assert {"qr_codes", "application_ids", "plan"} <= failed(report)
    assert {f["envelope_seq"] for f in report["checks"]["qr_codes"]["findings"]} == {
        int(m["envelope_seq"][0])}


def test_qr_code_not_matching_the_printed_id_is_caught(world, tmp_path):
    """Only the QR payload is wrong (text and manifest agree): only qr_codes may fail."""
    from layouts.batch import PrintSettings, write_batch
    _, plan, numbers, ledger = world
    rows = plan.filter(pl.col("batch_id") == BATCH)
    write_batch(tmp_path / BATCH, rows, numbers.select("resident_code", "my_number"),
                PrintSettings(qr_template="1{application_id}"))
    report = check_batch(tmp_path / BATCH, ledger=ledger, plan=plan, qr_sample_size=4)
    assert failed(report) == {"qr_codes"}
    assert report["checks"]["qr_codes"]["failures"] == 4


def test_ledger_with_a_different_active_number(world, batch, tmp_path):
    _, plan, numbers, _ = world
    printed = manifest_of(batch)["resident_codes"].explode()
    victim = printed[0]
    changed = make_numbers(numbers["resident_code"], seed=99).filter(
        pl.col("resident_code") == victim)
    other = numbers.filter(pl.col("resident_code") != victim)
    ledger = open_ledger(f"sqlite:///{tmp_path / 'other.db'}", operator="qa-test", create=True)
    ledger_numbers.commit(ledger, runs.start(ledger, "bulk", "1" * 64, {}), pl.concat([other, changed]),
                          key_id="k-test")
    report = check_batch(batch, ledger=QaLedger(ledger), plan=plan)
    assert failed(report) == {"ledger_numbers"}
    assert report["checks"]["ledger_numbers"]["failures"] == 1
    assert_private(batch, pl.concat([numbers, changed]), plan)


def test_corrupted_file_fails_sha256(world, batch):
    _, plan, _, ledger = world
    with open(batch / "manifest.csv", "ab") as fh:
        fh.write(b"\n")
    report = check_batch(batch, ledger=ledger, plan=plan)
    assert "sha256sums" in failed(report)
    rules = {f["rule"] for f in report["checks"]["sha256sums"]["findings"]}
    assert rules == {"manifest.csv digest mismatch"}


def test_missing_pdf_fails_without_crashing(world, batch):
    (batch / "cards.pdf").unlink()
    report = check_batch(batch)
    assert report["verdict"] == "fail" and "sha256sums" in failed(report)
    assert (batch / "qa.json").is_file()


def test_plan_member_missing_from_batch(world, batch):
    _, plan, _, ledger = world
    m = manifest_of(batch)
    env = int(m["envelope_seq"][0])
    extra = plan.filter(pl.col("envelope_seq") == env).head(1).with_columns(
        resident_code=pl.lit("99999999999"), member_seq=pl.lit(9, dtype=pl.UInt16))
    report = check_batch(batch, ledger=ledger, plan=pl.concat([plan, extra]))
    assert failed(report) == {"plan"}
    assert report["checks"]["plan"]["findings"][0]["envelope_seq"] == env


def test_manual_members_and_unprintable_envelopes_pass(tmp_path):
    """Draw-time manual handling: a member (and a whole envelope whose head) the fonts lack."""
    from tests.helpers.qa_fixtures import FrameLedger
    register = make_register(6, seed=5)
    households = register["household_id"].unique(maintain_order=True).to_list()
    sizes = register.group_by("household_id").len()
    multi = sizes.filter(pl.col("len") > 1)["household_id"].sort()[0]
    single = next(h for h in households if h != multi)
    last_of_multi = register.filter(pl.col("household_id") == multi)["resident_code"][-1]
    register = register.with_columns(given_name=pl.when(
        (pl.col("resident_code") == last_of_multi)
        | ((pl.col("household_id") == single) & pl.col("is_head")))
        .then(pl.col("given_name") + "\U0001F600").otherwise(pl.col("given_name")))
    plan = make_plan(register, batch_size=10)
    numbers = make_numbers(register["resident_code"], seed=6)
    result = write(tmp_path / BATCH, plan, numbers, BATCH)
    assert len(result.manual) >= 2
    manifest = manifest_of(tmp_path / BATCH)
    assert manifest["first_page"].null_count() >= 1
    report = check_batch(tmp_path / BATCH, ledger=FrameLedger(numbers), plan=plan, full_qr=True)
    assert report["verdict"] == "pass", failed(report)
    assert report["counts"]["manual_members"] == len(result.manual)
    # the plan must not claim a member is printed that the manifest lists nowhere
    dropped = manifest.with_columns(manual_resident_codes=pl.lit([], dtype=pl.List(pl.Utf8)))
    rewrite_manifest(tmp_path / BATCH, dropped)
    assert "plan" in failed(check_batch(tmp_path / BATCH, plan=plan, qr_sample_size=1))


def test_batch_with_nothing_printable(tmp_path):
    register = make_register(1, seed=7).with_columns(family_name=pl.lit("\U0001F600"))
    plan = make_plan(register, batch_size=10)
    numbers = make_numbers(register["resident_code"], seed=8)
    write(tmp_path / BATCH, plan, numbers, BATCH)
    report = check_batch(tmp_path / BATCH, plan=plan)
    assert report["verdict"] == "pass", failed(report)
    assert report["counts"]["pages"] == 1 and report["sampling"]["population"] == 0


@pytest.mark.parametrize("damage", ["garbage_parquet", "truncated_pdf", "missing_column"])
def test_unreadable_files_fail_the_batch_without_crashing(world, batch, damage):
    if damage == "garbage_parquet":
        (batch / "manifest.parquet").write_bytes(b"not a parquet file")
    elif damage == "truncated_pdf":
        data = (batch / "cards.pdf").read_bytes()
        (batch / "cards.pdf").write_bytes(data[: len(data) // 3])
    else:
        rewrite_manifest(batch, manifest_of(batch).drop("head_name"))
    report = check_batch(batch)
    assert report["verdict"] == "fail"
    expected = {"garbage_parquet": "manifest", "truncated_pdf": "page_count",
                "missing_column": "manifest"}[damage]
    assert expected in failed(report)
    assert json.loads((batch / "qa.json").read_text(encoding="utf-8"))["verdict"] == "fail"


def test_qa_json_refuses_a_number(tmp_path):
    from core.errors import QAFailure
    from qa.batch_qa import _write
    with pytest.raises(QAFailure):
        _write(tmp_path, {"note": "1234 5678 9018"}, [])
    with pytest.raises(QAFailure):
        _write(tmp_path, {"files": {"x": "a123456789018"}}, ["123456789018"])
    _write(tmp_path, {"files": {"x": "0123456789012345"}, "pages": [1, 2]}, ["999999999999"])
    assert not (tmp_path / ".qa.json.tmp").exists() and (tmp_path / "qa.json").is_file()


def test_sample_register_batches_pass(tmp_path):
    """The committed sample register, normalised, planned, rendered and checked."""
    from datetime import date

    from layouts.batch import PrintSettings, write_batch
    from readers import read_table
    from tests.helpers.qa_fixtures import FrameLedger
    from transforms.batching import assign_batches
    from transforms.households import (
        PlanParams,
        assign_application_ids,
        assign_registered_mail_numbers,
        plan_envelopes,
    )
    from transforms.register import normalise_register
    # the register check without its GX suite (seconds of start-up); the sample is clean
    normalised = normalise_register(read_table(Path("sample_data/register_sample.csv")).frame)
    assert normalised.quarantine.height == 0
    accepted = normalised.frame
    plan = plan_envelopes(accepted, PlanParams(issue_date=date(2026, 11, 26)))
    plan = assign_application_ids(plan, [f"8{i:022d}" for i in range(plan.height)])
    plan = assign_registered_mail_numbers(
        plan, [f"{3606000000 + i}{(3606000000 + i) % 7}" for i in range(plan["envelope_seq"].max())])
    plan = assign_batches(plan, 120)
    numbers = make_numbers(plan["resident_code"], seed=13)
    for batch_id in ("B00001", "B00002"):
        rows = plan.filter(pl.col("batch_id") == batch_id)
        write_batch(tmp_path / batch_id, rows, numbers.select("resident_code", "my_number"),
                    PrintSettings())
        report = check_batch(tmp_path / batch_id, ledger=FrameLedger(numbers), plan=plan,
                             qr_sample_size=20, seed=1)
        assert report["verdict"] == "pass", (batch_id, failed(report))
        assert report["counts"]["envelopes"] == 120
        assert_private(tmp_path / batch_id, numbers, rows)


def test_renderer_consistently_wrong_is_caught_by_the_plan(world, tmp_path):
    """Pages and manifest agree with each other but not with the plan (stale render input)."""
    from layouts.batch import PrintSettings, write_batch
    _, plan, numbers, ledger = world
    rows = plan.filter(pl.col("batch_id") == BATCH)
    head = rows.filter(pl.col("member_seq") == 1)["resident_code"][0]
    other = rows.filter(pl.col("member_seq") == 2)["resident_code"][0]
    stale = rows.with_columns(
        given_name=pl.when(pl.col("resident_code").is_in([head, other]))
        .then(pl.lit("違名")).otherwise(pl.col("given_name")),
        address=pl.when(pl.col("resident_code") == head).then(pl.lit("練馬区旧住所1-1"))
        .otherwise(pl.col("address")))
    write_batch(tmp_path / BATCH, stale, numbers.select("resident_code", "my_number"),
                PrintSettings())
    assert check_batch(tmp_path / BATCH, ledger=ledger, qr_sample_size=3)["verdict"] == "pass"
    report = check_batch(tmp_path / BATCH, ledger=ledger, plan=plan, qr_sample_size=3)
    assert failed(report) == {"plan", "address"}
    rules = {f["rule"] for f in report["checks"]["plan"]["findings"]}
    assert {"member name differs from the plan", "head_name differs from the plan"} <= rules


def test_alias_equal_to_another_households_name_passes_without_the_plan(tmp_path):
    """A 通称 that is another household's real name (26 false findings in one Nerima-scale
    batch checked without the plan): the manifest lists each member's alias, so
    `mynumber qa BATCH_DIR` alone knows it; with the plan the two are compared."""
    register = make_register(8, seed=31)
    heads = register.filter(pl.col("is_head"))
    other = heads.row(1, named=True)
    alias = f"{other['family_name']} {other['given_name']}"
    code = heads["resident_code"][0]
    register = register.with_columns(
        alias=pl.when(pl.col("resident_code") == code).then(pl.lit(alias)).otherwise(pl.col("alias")))
    plan = make_plan(register, batch_size=20)
    numbers = make_numbers(register["resident_code"], seed=32)
    batch = tmp_path / BATCH
    write(batch, plan, numbers, BATCH)
    manifest = manifest_of(batch)
    assert alias in manifest["member_aliases"].explode().to_list()

    alone = check_batch(batch, full_qr=True)
    assert alone["verdict"] == "pass", failed(alone)
    with_plan = check_batch(batch, plan=plan, full_qr=True)
    assert with_plan["verdict"] == "pass", failed(with_plan)

    # the manifest names another alias than the plan's: the plan check says so
    changed = manifest.with_columns(pl.col("member_aliases").list.eval(
        pl.when(pl.element() == alias).then(pl.lit("別人 名前")).otherwise(pl.element())))
    rewrite_manifest(batch, changed)
    report = check_batch(batch, plan=plan, full_qr=True)
    assert "member alias differs from the plan" in {
        f["rule"] for f in report["checks"]["plan"]["findings"]}


def test_manifest_without_the_alias_column_is_still_read(world, batch):
    """Manifests written before member_aliases existed pass as before."""
    _, plan, _, ledger = world
    rewrite_manifest(batch, manifest_of(batch).drop("member_aliases"))
    report = check_batch(batch, ledger=ledger, plan=plan, full_qr=True)
    assert report["verdict"] == "pass", failed(report)


def test_a_page_with_an_annotation_fails_the_batch(world, batch):
    """An annotation's appearance can print text QA does not read in the page text
    (a hostile review printed another household's name that way): the renderer writes
    none, so any annotation fails the batch."""
    _, plan, _, _ = world
    with pikepdf.open(batch / "cards.pdf", allow_overwriting_input=True) as pdf:
        page = pdf.pages[1]
        page.obj.Annots = pdf.make_indirect(pikepdf.Array([pdf.make_indirect(pikepdf.Dictionary(
            Type=pikepdf.Name.Annot, Subtype=pikepdf.Name.FreeText, F=4,
            Rect=[100, 100, 300, 130], Contents=pikepdf.String("x"), DA=pikepdf.String("0 g")))]))
        pdf.save(batch / "cards.pdf")
    rewrite_sums(batch)
    report = check_batch(batch, plan=plan, full_qr=True)
    assert report["verdict"] == "fail"
    assert failed(report) == {"annotations"}
    findings = report["checks"]["annotations"]["findings"]
    assert [(f["rule"], f["page"]) for f in findings] == [
        ("page carries annotations (not drawn by the renderer)", 2)]


def test_page_texts_reads_what_the_pypdfium2_helpers_read(world):
    """The raw-call reader gives each page the text ``get_textpage().get_text_bounded()`` gives."""
    from qa.readback import page_texts

    clean, *_ = world
    pdf = pdfium.PdfDocument(clean / "cards.pdf")
    try:
        expected = []
        for i in range(len(pdf)):
            page = pdf[i]
            textpage = page.get_textpage()
            expected.append(textpage.get_text_bounded().replace("\r\n", "\n"))
            textpage.close()
            page.close()
        annotated: list[int] = []
        assert page_texts(pdf, annotated) == expected
        assert annotated == [] and any("様" in t for t in expected)
    finally:
        pdf.close()


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_DIGITS = st.text(alphabet="0123456789", min_size=12, max_size=12)


@settings(max_examples=300)
@given(secrets=st.lists(_DIGITS, max_size=5),
       parts=st.lists(st.one_of(_DIGITS, st.text(alphabet="0123456789 a-\"", max_size=20)), max_size=8))
def test_holds_any_equals_a_substring_search(secrets, parts):
    """The one-pass scan of qa.json finds a number exactly when a substring search would,
    also inside longer digit runs and across the parts it was built from."""
    from qa.batch_qa import _holds_any

    payload = "".join(parts)
    assert _holds_any(payload, secrets) == any(s in payload for s in secrets)


def test_holds_any_treats_superscript_digits_as_text_not_decimal_digits():
    """"²" is a digit to str.isdigit() but not to the regex: such a string is searched as is."""
    from qa.batch_qa import _holds_any

    assert _holds_any("x" + "²" * 12 + "x", ["²" * 12])
    assert not _holds_any("123456789012", ["²" * 12])
