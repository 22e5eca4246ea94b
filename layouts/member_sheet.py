"""Member sheet: notification card (ID-1, inside cut marks) on top, application form below.

Variable per member: name, kana, alias, address, dates, sex, My Number, application id,
QR code and the substitute-character note; frames, labels, cut marks, the tear line, the
photo box and the blanks are furniture drawn once per document.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from layouts.colours import CARD_TINT, LABEL_FILL
from layouts.document import Document
from layouts.fonts import NAME_CHAIN
from layouts.qr import draw_qr
from layouts.records import (
    SEX_LABELS,
    Household,
    Member,
    both_calendars,
    format_application_id,
    format_my_number,
    substitute_name,
    wareki,
)
from layouts.spec import Box, MemberSheetSpec, PrintSpec

if TYPE_CHECKING:  # layouts.batch imports this module
    from layouts.batch import PrintSettings

#: rows of the form table: label, then the blanks the resident fills in
FORM_ROWS = ("フリガナ", "氏名", "通称", "住所", "生年月日", "申請書ID")
BLANK_ROWS = ("電話番号", "申請日", "署名")
PHOTO_TEXT = ("写真", "縦45mm × 横35mm", "正面・無帽・無背景", "6か月以内に撮影")
FORM_HELP = ("記入・写真の貼付後、同封の返信用封筒でお送りください。",
             "QRコードを読み取るとスマートフォンから申請できます（申請書IDが入っています）。")
SUBSTITUTE_NOTE = "代替文字：氏名の一部の文字は、次の文字で表示しています。"


def _cut_marks(doc: Document, card: Box, gap: float, length: float, width: float) -> None:
    for cx in (card.x, card.right):
        for cy in (card.y, card.bottom):
            sx = -1 if cx == card.x else 1
            sy = -1 if cy == card.y else 1
            doc.line(cx + sx * gap, cy, cx + sx * (gap + length), cy, width=width)
            doc.line(cx, cy + sy * gap, cx, cy + sy * (gap + length), width=width)


def _blanks_top(m: MemberSheetSpec) -> float:
    return m.form.y + m.table_dy + len(FORM_ROWS) * m.row_height + m.blanks_gap


def _furniture(settings: PrintSettings) -> Callable[[Document], None]:
    def draw(doc: Document) -> None:
        s, m = doc.spec, doc.spec.member
        card, p = m.card, m.card_padding
        c = doc.c
        c.saveState()      # tint bleeds past the cut line: docs/domain.md#pdfx-4-for-print-shops
        c.setFillColorCMYK(*CARD_TINT.components)
        b = m.card_bleed
        c.rect(doc.pt(card.x - b), doc.y(card.bottom + b), doc.pt(card.w + 2 * b),
               doc.pt(card.h + 2 * b), stroke=0, fill=1)
        c.restoreState()
        _cut_marks(doc, card, m.cut_mark_gap, m.cut_mark_length, m.line_width)
        doc.text(card.x + p, card.y + m.card_title_dy, "通知カード", m.card_title_size)
        doc.text(card.right - p, card.y + m.card_title_dy, settings.municipality,
                 m.card_title_size, anchor="end")
        for label, dy in m.card_rows:
            doc.text(card.x + p, card.y + dy, label, m.card_label_size)
        doc.text(card.right - p - m.card_sex_dx, card.y + dict(m.card_rows)["生年月日"], "性別",
                 m.card_label_size)
        doc.text(card.right - p, card.bottom - m.card_issuer_dy, settings.office_title,
                 m.card_text_size, anchor="end")
        doc.line(s.margin, m.tear_line_y, s.page_width - s.margin, m.tear_line_y,
                 width=m.line_width, dash=(4, 3))
        doc.text(s.page_width / 2, m.tear_line_y - m.tear_label_dy, "切り取り線",
                 m.form_label_size, anchor="middle")
        f = m.form
        doc.text(f.x, f.y + m.form_title_dy, "個人番号カード交付申請書", m.form_title_size)
        table_w = m.label_width + m.field_width
        tops = [f.y + m.table_dy + i * m.row_height for i in range(len(FORM_ROWS))]
        tops += [_blanks_top(m) + i * m.row_height for i in range(len(BLANK_ROWS))]
        for y, label in zip(tops, FORM_ROWS + BLANK_ROWS, strict=True):
            doc.rect(Box(f.x, y, table_w, m.row_height), width=m.line_width)
            doc.rect(Box(f.x, y, m.label_width, m.row_height), width=m.line_width,
                     fill_gray=LABEL_FILL.level)
            doc.text(f.x + m.label_padding, y + m.row_height / 2 + m.label_baseline_drop,
                     label, m.form_label_size)
        blanks = _blanks_top(m)
        doc.text(f.x, blanks - m.label_baseline_drop, "ご記入ください", m.form_label_size)
        date_y = blanks + m.row_height * 1.5 + m.label_baseline_drop
        doc.text(f.x + m.label_width + m.date_blank_dx, date_y, "年　　　月　　　日",
                 m.form_text_size)
        ph = m.photo
        doc.rect(ph, width=m.photo_frame, dash=(2, 1.5))
        for i, line in enumerate(PHOTO_TEXT):
            doc.text(ph.x + ph.w / 2, ph.y + m.photo_text_dy + i * m.photo_text_leading, line,
                     m.form_label_size, anchor="middle")
        q = m.qr
        doc.text(q.x + q.w / 2, q.bottom + m.qr_caption_dy, "オンライン申請用",
                 m.form_label_size, anchor="middle")
        help_y = blanks + len(BLANK_ROWS) * m.row_height + m.help_dy
        for i, line in enumerate(FORM_HELP):
            doc.text(f.x, help_y + i * m.help_leading, line, m.form_label_size)
    return draw


def draw_member_sheet(doc: Document, spec: PrintSpec, hh: Household, member: Member,
                      settings: PrintSettings, qr_payload: str, footer: str) -> None:
    """Draw one member's sheet (the caller ends the page)."""
    m = spec.member
    doc.furniture("MemberSheet", _furniture(settings))
    card, p = m.card, m.card_padding
    vx = card.x + m.card_value_dx
    vw = card.right - p - vx
    rows = dict(m.card_rows)
    doc.text(vx, card.y + rows["フリガナ"], member.kana, m.card_label_size, max_width=vw)
    doc.name(vx, card.y + rows["氏名"], member.name, m.card_name_size, max_width=vw)
    if member.alias:
        doc.name(vx, card.y + rows["通称"], member.alias, m.card_text_size, max_width=vw)
    addr = doc.wrap(member.address, m.card_text_size, vw, NAME_CHAIN)[:2]
    if member.address_extra:
        addr.append(member.address_extra)
    for i, line in enumerate(addr[:3]):
        doc.name(vx, card.y + rows["住所"] + i * m.card_address_leading, line,
                 m.card_text_size, max_width=vw)
    doc.text(vx, card.y + rows["生年月日"], both_calendars(member.date_of_birth),
             m.card_text_size, max_width=vw - m.card_sex_room)
    doc.text(card.right - p, card.y + rows["生年月日"], SEX_LABELS.get(member.sex_code, ""),
             m.card_text_size, anchor="end")
    doc.text(vx, card.y + rows["個人番号"] + m.card_number_drop,
             format_my_number(member.my_number or ""), m.card_number_size)
    doc.text(vx, card.y + rows["発行日"], wareki(hh.issue_date), m.card_text_size)

    f = m.form
    top = f.y + m.table_dy
    x = f.x + m.label_width + m.label_padding
    w = m.field_width - 2 * m.label_padding
    base = m.row_height / 2 + m.value_baseline_drop
    app_id = format_application_id(member.application_id or "")
    sex = SEX_LABELS.get(member.sex_code, "")
    values = {"フリガナ": (member.kana, False, m.form_text_size),
              "氏名": (member.name, True, m.form_name_size),
              "通称": (member.alias or "", True, m.form_text_size),
              "住所": (member.full_address, True, m.form_text_size),
              "生年月日": (f"{both_calendars(member.date_of_birth)}　性別 {sex}", False,
                        m.form_text_size),
              "申請書ID": (app_id, False, m.form_text_size)}
    for i, label in enumerate(FORM_ROWS):
        value, is_name, size = values[label]
        draw = doc.name if is_name else doc.text
        draw(x, top + i * m.row_height + base, value, size, max_width=w)
    doc.text(f.right, f.y + m.form_title_dy, "申請書ID " + app_id, m.form_label_size,
             anchor="end")
    draw_qr(doc.c, qr_payload, doc.pt(m.qr.x), doc.y(m.qr.y), doc.pt(m.qr.w))

    substituted, pairs = substitute_name(member.name)
    if pairs:
        y = _blanks_top(m) + len(BLANK_ROWS) * m.row_height + m.note_dy
        doc.text(f.x, y, SUBSTITUTE_NOTE, m.form_label_size)
        listed = "、".join(f"{a}（U+{ord(a):04X}）→{b}" for a, b in pairs)
        doc.name(f.x + m.note_indent, y + m.note_leading, listed, m.form_text_size,
                 max_width=m.field_width)
        doc.text(f.x + m.note_indent, y + 2 * m.note_leading, f"代替文字による氏名：{substituted}",
                 m.form_text_size, max_width=m.field_width)
    doc.footer(footer)
