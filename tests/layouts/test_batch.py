"""A rendered batch read back: manifest vs plan, every page's text, fonts, files."""

from __future__ import annotations

import re
import subprocess

import polars as pl
import pytest

from layouts.batch import BATCH_FILES, batch_is_complete, neutralise_cell, write_batch
from layouts.records import both_calendars, format_application_id, wareki
from tests.helpers.layout_pages import INJECTION_HOUSEHOLD, sample_plan


def fmt_number(n: str) -> str:
    return f"{n[:4]} {n[4:8]} {n[8:]}"


def test_manifest_accounts_for_every_plan_row(rendered) -> None:
    m, plan = rendered.manifest, rendered.plan
    assert m.height == plan["envelope_seq"].n_unique()
    assert int((m["members"] + m["manual_members"]).sum()) == plan.height
    codes = m["resident_codes"].explode().drop_nulls().to_list() \
        + m["manual_resident_codes"].explode().drop_nulls().to_list()
    assert sorted(codes) == sorted(plan["resident_code"].to_list())
    printed = m.filter(pl.col("first_page").is_not_null())
    assert printed["first_page"][0] == 1
    assert (printed["first_page"][1:] == printed["last_page"][:-1] + 1).all()
    assert (printed["last_page"] - printed["first_page"] + 1 == printed["members"] + 1).all()
    assert int(printed["last_page"].max()) == len(rendered.texts) == rendered.result.pages


def test_every_page_carries_the_contract(rendered) -> None:
    plan = rendered.plan.join(rendered.numbers, on="resident_code", validate="1:1")
    for env in rendered.manifest.filter(pl.col("first_page").is_not_null()).iter_rows(named=True):
        rows = plan.filter(pl.col("envelope_seq") == env["envelope_seq"])
        first, last = env["first_page"], env["last_page"]
        n = last - first + 1
        pages = rendered.texts[first - 1:last]
        for k, text in enumerate(pages, 1):
            footer = (f"BATCH {env['batch_id']} ENV {env['envelope_seq']:06d} "
                      f"HH {env['household_id']} P {k}/{n}")
            assert footer in text
            assert "見本" in text and "DEMO" in text
        r0 = rows.row(0, named=True)
        cover = pages[0]
        pc = r0["postal_code"]
        for needle in (f"〒{pc[:3]}-{pc[3:]}", r0["address"], f"{env['head_name']} 様",
                       "簡易書留", "転送不要", "〒176-8501", "東京都練馬区豊玉北6-12-1", "練馬区長",
                       re.sub(r"(\d{3})(\d{2})(\d{5})(\d)", r"\1-\2-\3-\4",
                              env["registered_mail_number"])):
            assert needle in cover, needle
        if r0["address_extra"]:
            assert r0["address_extra"] in cover
        if env["manual_members"]:
            assert f"{env['manual_members']}名分" in cover and "別途" in cover
        for code, text in zip(env["resident_codes"], pages[1:], strict=True):
            r = rows.filter(pl.col("resident_code") == code).row(0, named=True)
            for needle in (f"{r['family_name']} {r['given_name']}", r["address"],
                           fmt_number(r["my_number"]), format_application_id(r["application_id"]),
                           f"{r['family_name_kana']} {r['given_name_kana']}",
                           wareki(r["date_of_birth"]), both_calendars(r["date_of_birth"]),
                           wareki(r["issue_date"]), "男" if r["sex_code"] == 1 else "女",
                           "電話番号", "署名", "申請日", "縦45mm × 横35mm"):
                assert needle in text, needle
            if r["alias"]:
                assert r["alias"] in text


def test_plan_manual_members_are_listed_not_printed(rendered) -> None:
    manual = rendered.plan.filter(pl.col("is_manual"))
    assert manual.height >= 2
    m = rendered.manifest.explode("manual_resident_codes")
    assert set(manual["resident_code"]) <= set(m["manual_resident_codes"].drop_nulls())
    printed = set(rendered.manifest["resident_codes"].explode().drop_nulls())
    assert not set(manual["resident_code"]) & printed
    numbers = dict(rendered.numbers.iter_rows())
    whole = "\n".join(rendered.texts)
    for code in manual["resident_code"]:
        assert fmt_number(numbers[code]) not in whole


def test_ivs_name_goes_to_manual_handling_with_code_point(rendered) -> None:
    entries = [e for e in rendered.result.manual if "U+E0100" in e.code_points]
    assert len(entries) == 1
    assert entries[0].resident_code in set(
        rendered.manifest["manual_resident_codes"].explode().drop_nulls())
    assert "\U000E0100" not in "".join(rendered.texts)


def test_fonts_embedded_and_no_helvetica(rendered) -> None:
    out = subprocess.run(["pdffonts", str(rendered.dir / "cards.pdf")], check=True,
                         capture_output=True, text=True).stdout.splitlines()[2:]
    assert out, "no fonts listed"
    for line in out:
        name, emb = line.split()[0], line.split()[-5]
        assert emb == "yes", line
        assert re.fullmatch(r"[A-Z]{6}\+IPA(mjMincho|exGothic|exMincho)", name), line
    assert "Helvetica" not in (rendered.dir / "cards.pdf").read_bytes().decode("latin1")


def test_manifest_masks_numbers_and_holds_no_full_number(rendered) -> None:
    for masked in rendered.manifest["my_numbers_masked"].explode().drop_nulls():
        assert re.fullmatch(r"\*{8}\d{4}", masked)
    blobs = [(rendered.dir / name).read_bytes() for name in ("manifest.parquet", "manifest.csv")]
    for number in rendered.numbers["my_number"]:
        for blob in blobs:
            assert number.encode() not in blob and fmt_number(number).encode() not in blob


def test_csv_neutralises_formula_cells(rendered) -> None:
    text = (rendered.dir / "manifest.csv").read_text(encoding="utf-8-sig")
    assert f"'{INJECTION_HOUSEHOLD}" in text
    assert not re.search(r"(^|,)[=+\-@]", text, re.MULTILINE)


@pytest.mark.parametrize("cell,expected", [("=1+1", "'=1+1"), ("+81", "'+81"), ("-2", "'-2"),
                                           ("@SUM", "'@SUM"), ("\tx", "'\tx"), ("\rx", "'\rx"),
                                           ("練馬", "練馬"), ("1=1", "1=1")])
def test_neutralise_cell(cell: str, expected: str) -> None:
    assert neutralise_cell(cell) == expected


def test_sums_verify_and_rerender_is_byte_identical(rendered, tmp_path) -> None:
    sums = (rendered.dir / "SHA256SUMS").read_text()
    assert subprocess.run(["sha256sum", "-c", "--quiet", "SHA256SUMS"], cwd=rendered.dir).returncode == 0
    assert [line.split("  ")[1] for line in sums.splitlines()] == list(BATCH_FILES)
    plan, numbers = sample_plan()
    again = write_batch(tmp_path / "B00001", plan, numbers, rendered.settings)
    assert not again.skipped
    for name in (*BATCH_FILES, "SHA256SUMS"):
        assert (tmp_path / "B00001" / name).read_bytes() == (rendered.dir / name).read_bytes(), name


def test_verified_batch_is_skipped_and_damaged_one_rerendered(tmp_path) -> None:
    plan, numbers = sample_plan()
    plan = plan.filter(pl.col("envelope_seq") <= 3)
    from layouts.batch import PrintSettings
    first = write_batch(tmp_path, plan, numbers, PrintSettings())
    assert not first.skipped and batch_is_complete(tmp_path)
    second = write_batch(tmp_path, plan, numbers, PrintSettings())
    assert second.skipped and second.pages == first.pages and second.envelopes == first.envelopes
    good = (tmp_path / "cards.pdf").read_bytes()
    (tmp_path / "cards.pdf").write_bytes(good[: len(good) // 2])
    assert not batch_is_complete(tmp_path)
    third = write_batch(tmp_path, plan, numbers, PrintSettings())
    assert not third.skipped and (tmp_path / "cards.pdf").read_bytes() == good


def test_interrupted_write_never_verifies(tmp_path, monkeypatch) -> None:
    import layouts.batch as batch

    plan, numbers = sample_plan()
    plan = plan.filter(pl.col("envelope_seq") <= 2)
    batch.write_batch(tmp_path, plan, numbers, batch.PrintSettings())
    (tmp_path / "manifest.csv").write_bytes(b"damaged")      # forces a re-render
    real = batch._write_atomic

    def dies_on_csv(path, data):
        if path.name == "manifest.csv":
            raise KeyboardInterrupt("killed")
        real(path, data)

    monkeypatch.setattr(batch, "_write_atomic", dies_on_csv)
    with pytest.raises(KeyboardInterrupt):
        batch.write_batch(tmp_path, plan, numbers, batch.PrintSettings())
    assert not batch_is_complete(tmp_path)
    assert not (tmp_path / "SHA256SUMS").exists()
    assert not list(tmp_path.glob(".*tmp*"))


def _texts(path) -> list[str]:
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(str(path))
    return [doc[i].get_textpage().get_text_range() for i in range(len(doc))]


def test_envelope_address_on_sheet_and_own_address_on_card(tmp_path) -> None:
    from layouts.batch import PrintSettings

    plan, numbers = sample_plan()
    env = int(plan.group_by("envelope_seq").len().filter(pl.col("len") >= 2)["envelope_seq"].min())
    plan = plan.filter(pl.col("envelope_seq") == env).with_columns(
        envelope_postal_code=pl.col("postal_code"), envelope_address=pl.col("address"),
        envelope_address_extra=pl.col("address_extra"))
    plan = plan.with_columns(address=pl.when(pl.col("member_seq") == 2)
                             .then(pl.lit("東京都練馬区高松九丁目9番9号"))
                             .otherwise(pl.col("address")))
    write_batch(tmp_path, plan, numbers, PrintSettings())
    texts = _texts(tmp_path / "cards.pdf")
    head_addr = plan["envelope_address"][0]
    assert head_addr in texts[0] and "高松九丁目" not in texts[0]
    assert "東京都練馬区高松九丁目9番9号" in texts[2] and head_addr in texts[1]


def test_unaddressable_envelope_gets_no_pages(tmp_path) -> None:
    from layouts.batch import PrintSettings

    plan, numbers = sample_plan()
    plan = plan.filter(pl.col("envelope_seq") <= 3).with_columns(
        family_name=pl.when((pl.col("envelope_seq") == 2) & pl.col("is_head"))
        .then(pl.lit("邉\U000E0101")).otherwise(pl.col("family_name")))
    result = write_batch(tmp_path, plan, numbers, PrintSettings())
    m = pl.read_parquet(tmp_path / "manifest.parquet")
    row = m.filter(pl.col("envelope_seq") == 2).row(0, named=True)
    n = plan.filter(pl.col("envelope_seq") == 2).height
    assert row["first_page"] is None and row["members"] == 0 and row["manual_members"] == n
    assert sum(1 for e in result.manual if e.envelope_seq == 2) == n
    texts = _texts(tmp_path / "cards.pdf")
    assert len(texts) == result.pages and not any("ENV 000002" in t for t in texts)


def test_bytes_do_not_depend_on_the_process(rendered, tmp_path) -> None:
    """Another interpreter with another hash seed renders the same bytes."""
    import os
    import sys

    code = ("import sys; from tests.helpers.layout_pages import sample_plan;"
            "from layouts.batch import write_batch, PrintSettings;"
            "p, n = sample_plan(); write_batch(sys.argv[1], p, n, PrintSettings(demo=True))")
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    subprocess.run([sys.executable, "-c", code, str(tmp_path / "B")], check=True, env=env,
                   cwd=root)
    for name in (*BATCH_FILES, "SHA256SUMS"):
        assert (tmp_path / "B" / name).read_bytes() == (rendered.dir / name).read_bytes(), name


def test_very_large_household_keeps_the_cover_letter_on_its_page(tmp_path) -> None:
    from layouts.batch import PrintSettings

    plan, numbers = sample_plan()
    one = plan.filter(pl.col("envelope_seq") == 2).head(1)
    big = pl.concat([one.with_columns(resident_code=pl.lit(f"{i:011d}"),
                                      member_seq=pl.lit(i + 1, dtype=pl.UInt16),
                                      is_head=pl.lit(i == 0), is_manual=pl.lit(False),
                                      application_id=pl.lit(f"{i + 1:023d}"))
                     for i in range(30)])
    nums = pl.DataFrame({"resident_code": big["resident_code"],
                         "my_number": ["123456789018"] * 30})
    result = write_batch(tmp_path, big, nums, PrintSettings())
    texts = _texts(tmp_path / "cards.pdf")
    assert result.pages == 31 == len(texts)
    assert "ほか" in texts[0] and "名（同封の通知カードをご確認ください）" in texts[0]
    assert texts[0].count("BATCH ") == 1


def test_sigkill_mid_write_leaves_a_batch_that_does_not_verify(tmp_path) -> None:
    """A real SIGKILL right after cards.pdf lands (manifests and sums not yet written)."""
    import os
    import sys

    from layouts.batch import PrintSettings

    plan, numbers = sample_plan()
    plan = plan.filter(pl.col("envelope_seq") <= 3)
    first = write_batch(tmp_path / "B", plan, numbers, PrintSettings())
    (tmp_path / "B" / "manifest.csv").write_bytes(b"stale")      # force a re-render
    code = ("import os, signal, sys\n"
            "from tests.helpers.layout_pages import sample_plan\n"
            "from layouts.batch import write_batch, PrintSettings\n"
            "import polars as pl\n"
            "real = os.replace\n"
            "def replace(src, dst):\n"
            "    real(src, dst)\n"
            "    if str(dst).endswith('cards.pdf'):\n"
            "        os.kill(os.getpid(), signal.SIGKILL)\n"
            "os.replace = replace\n"
            "p, n = sample_plan(); p = p.filter(pl.col('envelope_seq') <= 3)\n"
            "write_batch(sys.argv[1], p, n, PrintSettings())\n")
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    proc = subprocess.run([sys.executable, "-c", code, str(tmp_path / "B")], cwd=root)
    assert proc.returncode == -9
    assert not batch_is_complete(tmp_path / "B")
    again = write_batch(tmp_path / "B", plan, numbers, PrintSettings())
    assert not again.skipped and batch_is_complete(tmp_path / "B")
    assert again.sha256 == first.sha256


def test_formula_after_a_list_separator_is_neutralised_and_qa_still_agrees(rendered) -> None:
    """A joined list cell (member names) never carries a formula after a ';' (a spreadsheet
    split on ';' would run it), and QA still reads the CSV back as the Parquet."""
    import io

    from layouts.batch import manifest_csv_bytes
    from qa.checks import check_manifest

    manifest = rendered.manifest.with_columns(
        pl.col("member_names").list.eval(pl.element() + pl.lit(";=cmd|' /C calc'!A0")))
    data = manifest_csv_bytes(manifest)
    text = data.decode("utf-8-sig")
    assert "=cmd" in text and ";=cmd" not in text and ";'=cmd" in text
    csv = pl.read_csv(io.BytesIO(data), infer_schema=False)
    for cell in csv["member_names"]:
        assert not any(part.startswith(("=", "+", "-", "@")) for part in cell.split(";"))
    assert check_manifest(manifest, csv) == []
