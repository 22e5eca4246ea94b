"""`mynumber preview --out DIR`: one sample household rendered to PDF and PNG pages.

The household shows what real registers bring: names with characters outside JIS X 0208
(𠮷田, 髙橋), a foreign resident with a registered alias (通称), and a member whose name
carries an ideographic variation sequence and therefore follows separately. Every number
is a made-up demo value with a valid check digit (no key is needed), and every page says
DEMO / 見本.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from core.errors import ConfigError

if TYPE_CHECKING:
    import polars as pl

#: the sample household: (relationship, family, given, family kana, given kana, alias, born, sex)
SAMPLE_MEMBERS = (
    ("世帯主", "𠮷田", "太郎", "ヨシダ", "タロウ", None, dt.date(1975, 4, 1), 1),
    ("妻", "𠮷田", "花子", "ヨシダ", "ハナコ", None, dt.date(1978, 11, 23), 2),
    ("同居人", "髙橋", "美咲", "タカハシ", "ミサキ", None, dt.date(1989, 1, 8), 2),
    ("同居人", "NGUYEN", "VAN AN", "グエン", "ヴァン アン", "中村 安", dt.date(1992, 6, 15), 1),
    ("子", "𠮷田", "葛\U000E0100子", "ヨシダ", "カツコ", None, dt.date(2012, 5, 5), 2),
)
DEMO_NUMBERS = ("123456789018", "023456789013", "983205673214")


def sample_household(batch_id: str = "DEMO1") -> tuple[pl.DataFrame, pl.DataFrame]:
    """(plan_rows, numbers) of the preview household: fixed, key-free demo values."""
    import polars as pl

    from layouts.samples import my_number_check_digit

    rows, numbers = [], []
    for i, (rel, fam, given, fk, gk, alias, born, sex) in enumerate(SAMPLE_MEMBERS, 1):
        code = f"{9000000000 + i:010d}0"
        body = f"{90000000000 + i * 1111:011d}"
        number = DEMO_NUMBERS[i - 1] if i <= len(DEMO_NUMBERS) else body + my_number_check_digit(body)
        rows.append({
            "resident_code": code, "household_id": "DEMO-H0001", "relationship": rel,
            "is_head": i == 1, "family_name": fam, "given_name": given, "family_name_kana": fk,
            "given_name_kana": gk, "alias": alias, "date_of_birth": born, "sex_code": sex,
            "postal_code": "1760012", "address": "東京都練馬区豊玉北六丁目12番1号",
            "address_extra": "練馬ハイツ203", "envelope_seq": 1, "member_seq": i, "batch_no": 1,
            "batch_id": batch_id, "application_id": f"9{i:02d}20151005131202000000{i}"[:23].ljust(23, "0"),
            "registered_mail_number": "31460012345", "issue_date": dt.date(2015, 10, 20),
            "is_manual": False,
        })
        numbers.append({"resident_code": code, "my_number": number})
    plan = pl.DataFrame(rows).with_columns(
        pl.col("sex_code").cast(pl.UInt8), pl.col("envelope_seq").cast(pl.UInt32),
        pl.col("member_seq").cast(pl.UInt16), pl.col("batch_no").cast(pl.UInt32),
        pl.col("alias").cast(pl.Utf8))
    return plan, pl.DataFrame(numbers)


def render_preview(out: Path, dpi: float = 100.0) -> list[Path]:
    """Render the sample household to out/cards.pdf (+ manifest) and out/page-N.png."""
    import pypdfium2 as pdfium

    from layouts.batch import PrintSettings, write_batch

    plan, numbers = sample_household()
    write_batch(out, plan, numbers, PrintSettings(demo=True))
    doc = pdfium.PdfDocument(str(out / "cards.pdf"))
    pngs = []
    for i in range(len(doc)):
        path = out / f"page-{i + 1}.png"
        img = doc[i].render(scale=dpi / 72).to_pil()
        # 32 colours keep the pale-green card and stay small enough for a README
        img.quantize(colors=32).save(path, optimize=True)
        pngs.append(path)
    doc.close()
    return pngs


def preview(
    out: Path = typer.Option(Path("preview-out"), "--out", help="Folder for cards.pdf and page-N.png."),
    dpi: float = typer.Option(100.0, "--dpi", help="Resolution of the PNG pages."),
) -> int:
    """Render one sample household (DEMO) to PDF and PNG pages, to see what gets printed."""
    from rich.console import Console

    if not 30 <= dpi <= 600:
        raise ConfigError("--dpi must be between 30 and 600")
    pngs = render_preview(out, dpi)
    Console().print(f"written: {out / 'cards.pdf'} and {len(pngs)} pages "
                    f"({pngs[0].name} … {pngs[-1].name}); one member follows separately (IVS)")
    return 0


def register(app: typer.Typer) -> None:
    app.command("preview")(preview)
