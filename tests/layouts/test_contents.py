"""The statutory contents: the 2015 card, the 2020 notice, the form, and the sender."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import numpy as np
import polars as pl
import pypdfium2 as pdfium
import pytest

from layouts.batch import PrintSettings, write_batch
from layouts.member_sheet import (
    FORM_TITLE,
    NOTICE_STATEMENT,
    UNDER_15_NOTE,
    age_on,
    card_birth_date,
)
from layouts.records import Member, seireki, wareki
from layouts.samples import demo_plan
from layouts.spec import DEFAULT_SPEC

PT = 72 / 25.4
ISSUE = dt.date(2015, 10, 20)


def region_text(pdf: pdfium.PdfDocument, index: int, box) -> str:
    page = pdf[index]
    h = page.get_height()
    tp = page.get_textpage()
    try:
        return tp.get_text_bounded(box.x * PT, h - box.bottom * PT, box.right * PT, h - box.y * PT)
    finally:
        tp.close()
        page.close()


def squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


@pytest.fixture(scope="module")
def plan_numbers():
    plan, numbers = demo_plan(6, seed=11, rare_names=False, issue_date=ISSUE)
    # a foreign resident with a 通称 in the first envelope, a child in the second
    envs = sorted(plan["envelope_seq"].unique().to_list())
    head1 = (pl.col("envelope_seq") == envs[0]) & pl.col("is_head")
    head2 = (pl.col("envelope_seq") == envs[1]) & pl.col("is_head")
    plan = plan.with_columns(
        family_name=pl.when(head1).then(pl.lit("NGUYEN")).otherwise(pl.col("family_name")),
        given_name=pl.when(head1).then(pl.lit("VAN AN")).otherwise(pl.col("given_name")),
        alias=pl.when(head1).then(pl.lit("阮 文安")).otherwise(pl.col("alias")),
        date_of_birth=pl.when(head2).then(pl.lit(dt.date(2010, 4, 1)))
        .otherwise(pl.col("date_of_birth")))
    return plan, numbers, envs


def render(tmp: Path, plan, numbers, **settings) -> tuple[pdfium.PdfDocument, pl.DataFrame]:
    write_batch(tmp, plan, numbers, PrintSettings(demo=True, **settings))
    return pdfium.PdfDocument(str(tmp / "cards.pdf")), pl.read_parquet(tmp / "manifest.parquet")


def member_page(manifest: pl.DataFrame, env: int) -> int:
    """0-based index of the first member sheet of an envelope (the head's)."""
    return int(manifest.filter(pl.col("envelope_seq") == env)["first_page"][0])


def test_2015_card_front(tmp_path, plan_numbers) -> None:
    plan, numbers, envs = plan_numbers
    pdf, manifest = render(tmp_path / "B", plan, numbers)
    card = DEFAULT_SPEC.member.card
    foreign = squash(region_text(pdf, member_page(manifest, envs[0]), card))
    for needle in ("通知カード", "氏名", "住所", "生年月日", "性別", "個人番号", "発行日", "発行者",
                   "練馬区長", "NGUYEN", "阮文安", wareki(ISSUE)):
        assert needle in foreign, needle
    born = plan.filter((pl.col("envelope_seq") == envs[0]) & pl.col("is_head"))["date_of_birth"][0]
    assert squash(seireki(born)) in foreign and squash(wareki(born)) not in foreign   # 西暦 only
    national = plan.filter((pl.col("envelope_seq") == envs[2]) & pl.col("is_head")).row(0, named=True)
    text = squash(region_text(pdf, member_page(manifest, envs[2]), card))
    assert squash(wareki(national["date_of_birth"])) in text                            # 和暦
    assert squash(seireki(national["date_of_birth"])) not in text
    assert national["family_name_kana"] not in text and "フリガナ" not in text          # no furigana
    pdf.close()


def test_form_title_boxes_and_legal_representative(tmp_path, plan_numbers) -> None:
    plan, numbers, envs = plan_numbers
    pdf, manifest = render(tmp_path / "B", plan, numbers)
    form = DEFAULT_SPEC.member.form
    child = squash(region_text(pdf, member_page(manifest, envs[1]), form))
    adult = squash(region_text(pdf, member_page(manifest, envs[2]), form))
    for needle in (FORM_TITLE, "署名用電子証明書不要", "利用者証明用電子証明書不要", "点字表記を希望する",
                   "法定代理人", "申請書ID"):
        assert squash(needle) in child and squash(needle) in adult, needle
    assert squash(UNDER_15_NOTE) in child and squash(UNDER_15_NOTE) not in adult
    pdf.close()


def test_2020_notice_carries_no_address_or_sex_and_says_it_is_no_proof(tmp_path, plan_numbers) -> None:
    plan, numbers, envs = plan_numbers
    pdf, manifest = render(tmp_path / "B", plan, numbers, notice_format="2020-notice")
    card = DEFAULT_SPEC.member.card
    national = plan.filter((pl.col("envelope_seq") == envs[2]) & pl.col("is_head")).row(0, named=True)
    text = squash(region_text(pdf, member_page(manifest, envs[2]), card))
    for needle in ("個人番号通知書", squash(NOTICE_STATEMENT), "氏名", "生年月日", "個人番号", "発行日",
                   "発行者", national["family_name"]):
        assert needle in text, needle
    assert "通知カード" not in text and "住所" not in text and "性別" not in text
    assert squash(national["address"]) not in text
    cover = squash(region_text(pdf, member_page(manifest, envs[2]) - 1, DEFAULT_SPEC.address.letter))
    assert "個人番号通知書の送付について" in cover and "通知カード" not in cover
    pdf.close()


def test_sender_comes_from_settings(tmp_path, plan_numbers) -> None:
    plan, numbers, _ = plan_numbers
    sender = {"municipality": "見本市", "sender_postcode": "999-8501", "sender_address": "見本県見本市本町1-1",
                  "office_title": "見本市長", "office_name": "見本市役所", "telephone": "099-000-0000"}
    pdf, _ = render(tmp_path / "B", plan, numbers, **sender)
    texts = [pdf[i].get_textpage().get_text_bounded() for i in range(len(pdf))]
    pdf.close()
    cover, member = squash(texts[0]), squash(texts[1])
    for value in sender.values():
        assert squash(value) in cover + member, value
    # the sample plan's addresses are in Nerima; the sender, mayor and office never are
    assert "練馬区長" not in cover + member and "練馬区役所" not in cover + member


def test_no_municipality_is_hard_coded_in_the_layouts() -> None:
    root = Path(__file__).resolve().parents[2] / "layouts"
    for path in root.glob("*.py"):
        if path.name != "samples.py":
            assert "練馬" not in re.sub(r"#.*", "", path.read_text(encoding="utf-8")), path.name


@pytest.mark.parametrize("born,on,age", [
    (dt.date(2000, 10, 20), dt.date(2015, 10, 20), 15), (dt.date(2000, 10, 21), dt.date(2015, 10, 20), 14),
    (dt.date(2004, 2, 29), dt.date(2019, 2, 28), 14), (dt.date(2004, 2, 29), dt.date(2019, 3, 1), 15)])
def test_age_on(born: dt.date, on: dt.date, age: int) -> None:
    assert age_on(born, on) == age


def test_birth_date_calendar_follows_the_residents_status() -> None:
    common = {"resident_code": "1", "member_seq": 1, "is_head": True, "family_name_kana": "",
                  "given_name_kana": "", "date_of_birth": dt.date(1985, 4, 1), "sex_code": 1,
                  "application_id": None, "my_number": None, "is_manual": False}
    assert card_birth_date(Member(family_name="田中", given_name="太郎", alias=None, **common)) \
        == "昭和60年4月1日"
    assert card_birth_date(Member(family_name="金", given_name="敏俊", alias="金田 敏", **common)) \
        == "1985年4月1日"
    assert card_birth_date(Member(family_name="SMITH", given_name="JOHN", alias=None, **common)) \
        == "1985年4月1日"


# --- duplex: the card's back (追記欄) -------------------------------------------------------
def tint_box(pdf: pdfium.PdfDocument, index: int, dpi: float = 72) -> tuple[int, int, int, int]:
    """(left, top, right, bottom) in pixels of the card's tint: the commonest light non-white
    colour of the page (the tint is CMYK, so a renderer may show it green or grey)."""
    img = np.asarray(pdf[index].render(scale=dpi / 72).to_pil().convert("RGB")).astype(int)
    light = (img.min(axis=2) > 200) & (img.max(axis=2) < 254)
    colours, counts = np.unique(img[light], axis=0, return_counts=True)
    tint = colours[counts.argmax()]
    ys, xs = np.nonzero(np.abs(img - tint).max(axis=2) <= 2)
    return int(xs.min()), int(ys.min()), int(xs.max()), int(ys.max())


def test_duplex_back_carries_the_tsuiki_ran_behind_the_card(tmp_path, plan_numbers) -> None:
    from qa import check_batch

    plan, numbers, _ = plan_numbers
    out = tmp_path / "B"
    pdf, manifest = render(out, plan, numbers, duplex=True)
    row = manifest.row(0, named=True)
    assert row["last_page"] - row["first_page"] + 1 == 2 * (1 + row["members"])
    front, back = row["first_page"] + 2, row["first_page"] + 3        # 1-based: member front, back
    width = pdf[front - 1].get_width()
    fl, ft, fr, fb = tint_box(pdf, front - 1)
    bl, bt, br, bb = tint_box(pdf, back - 1)
    # long-edge duplex: the back is the front mirrored left-right, to the pixel
    px = int(round(width))
    assert abs(bl - (px - fr)) <= 1 and abs(br - (px - fl)) <= 1, (fl, fr, bl, br, px)
    assert abs(bt - ft) <= 1 and abs(bb - fb) <= 1
    back_text = squash(pdf[back - 1].get_textpage().get_text_bounded())
    assert "追記欄" in back_text and "年月日" in back_text and "職印" in back_text
    assert "追記欄" not in squash(pdf[row["first_page"]].get_textpage().get_text_bounded())  # address back
    pdf.close()
    report = check_batch(out, full_qr=True)
    assert report["verdict"] == "pass", report["checks"]


def test_a_sender_too_long_for_its_box_is_refused(tmp_path, plan_numbers) -> None:
    from core.errors import ConfigError

    plan, numbers, _ = plan_numbers
    with pytest.raises(ConfigError, match="sender"):
        write_batch(tmp_path / "B", plan, numbers,
                    PrintSettings(sender_address="見本県見本郡見本町大字見本字見本一丁目二番三号見本ビル" * 2))
