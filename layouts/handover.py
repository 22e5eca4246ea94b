"""The post-office hand-over list (差出票-style): registered-mail numbers with postcodes and
counts, and the sender, as a plain A4 table PDF. No names, no My Numbers: the post office
needs only what is on the outside of the envelopes (docs/domain.md#registered-mail-lifecycle).
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import polars as pl

from layouts.fonts import load_fonts
from transforms.identifiers.registered_mail import format as format_rmn

ROWS_PER_PAGE = 40


@dataclass(frozen=True)
class Sender:
    """The sender printed on the list (the municipality from settings)."""

    name: str
    postal_code: str
    address: str
    telephone: str = ""


def handover_pdf(envelopes: pl.DataFrame, sender: Sender, *, title: str, when: str,
                 demo: bool = False, font_dir: str | None = None) -> bytes:
    """A4 pages: header with the sender, then rows (no, registered-mail number, postcode,
    batch, envelope, members); a total line on the last page. ``envelopes`` has
    registered_mail_number, postal_code, batch_id, envelope_seq, members."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.pdfgen import canvas

    fonts = load_fonts(None, font_dir)
    gothic = fonts.names["gothic"]
    buf = io.BytesIO()
    pdf = canvas.Canvas(buf, pagesize=A4, invariant=True)
    pdf.setTitle(title)
    width, height = A4
    rows = envelopes.sort("postal_code", "registered_mail_number").to_dicts()
    pages = max(1, -(-len(rows) // ROWS_PER_PAGE))
    cols = (15 * mm, 30 * mm, 75 * mm, 105 * mm, 135 * mm, 165 * mm)
    for page in range(pages):
        y = height - 20 * mm
        pdf.setFont(gothic, 14)
        pdf.drawString(15 * mm, y, title + ("  [DEMO]" if demo else ""))
        pdf.setFont(gothic, 9)
        y -= 7 * mm
        pdf.drawString(15 * mm, y, f"差出人: {sender.name}  〒{sender.postal_code[:3]}-"
                                   f"{sender.postal_code[3:]} {sender.address}  {sender.telephone}")
        y -= 5 * mm
        pdf.drawString(15 * mm, y, f"種別: 簡易書留 (転送不要)  作成: {when}  "
                                   f"頁 {page + 1}/{pages}")
        y -= 8 * mm
        for x, head in zip(cols, ("No.", "引受番号", "郵便番号", "バッチ", "封筒", "通数"),
                           strict=True):
            pdf.drawString(x, y, head)
        pdf.line(15 * mm, y - 1.5 * mm, width - 15 * mm, y - 1.5 * mm)
        for i, row in enumerate(rows[page * ROWS_PER_PAGE:(page + 1) * ROWS_PER_PAGE]):
            y -= 5.5 * mm
            n = page * ROWS_PER_PAGE + i + 1
            pc = str(row["postal_code"] or "")
            cells = (str(n), format_rmn(row["registered_mail_number"]),
                     f"〒{pc[:3]}-{pc[3:]}" if len(pc) == 7 else pc, str(row["batch_id"]),
                     f"{int(row['envelope_seq']):06d}", str(row["members"]))
            for x, cell in zip(cols, cells, strict=True):
                pdf.drawString(x, y, cell)
        if page == pages - 1:
            y -= 9 * mm
            pdf.setFont(gothic, 11)
            pdf.drawString(15 * mm, y, f"合計 {len(rows)} 通 (封筒)  "
                                       f"{sum(int(r['members']) for r in rows)} 名分")
        pdf.showPage()
    pdf.save()
    return buf.getvalue()
