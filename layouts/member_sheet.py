"""Member sheet: notification card (ID-1, inside cut marks) on top, application form below.

Variable per member: name, kana, alias, address, dates, sex, My Number, application id,
QR code and the substitute-character note; frames, labels, cut marks, the tear line, the
photo box and the blanks are furniture drawn once per document.
"""

from __future__ import annotations

from layouts.document import Document
from layouts.fonts import NAME_CHAIN
from layouts.qr import draw_qr
from layouts.records import (SEX_LABELS, Household, Member, both_calendars,
                             format_application_id, format_my_number, substitute_name,
                             wareki)
from layouts.spec import Box, PrintSpec

CARD_GREEN = (0.90, 0.96, 0.91)
#: rows of the form table: label, then the blanks the resident fills in
FORM_ROWS = ("フリガナ", "氏名", "通称", "住所", "生年月日", "申請書ID")
BLANK_ROWS = ("電話番号", "申請日", "署名")
# card rows: (label, y offset from the card top in mm)
CARD_ROWS = (("フリガナ", 9.5), ("氏名", 14.5), ("通称", 19.0), ("住所", 23.5),
             ("生年月日", 33.0), ("個人番号", 40.5), ("発行日", 47.0))
CARD_VALUE_X = 14.0
PHOTO_TEXT = ("写真", "縦45mm × 横35mm", "正面・無帽・無背景", "6か月以内に撮影")
FORM_HELP = ("記入・写真の貼付後、同封の返信用封筒でお送りください。",
             "QRコードを読み取るとスマートフォンから申請できます（申請書IDが入っています）。")
SUBSTITUTE_NOTE = "代替文字：氏名の一部の文字は、次の文字で表示しています。"


def _cut_marks(doc: Document, card: Box, gap: float, length: float) -> None:
    for cx in (card.x, card.right):
        for cy in (card.y, card.bottom):
            sx = -1 if cx == card.x else 1
            sy = -1 if cy == card.y else 1
            doc.line(cx + sx * gap, cy, cx + sx * (gap + length), cy, width=0.3)
            doc.line(cx, cy + sy * gap, cx, cy + sy * (gap + length), width=0.3)


def _furniture(settings):
    def draw(doc: Document) -> None:
        s, m = doc.spec, doc.spec.member
        card, p = m.card, m.card_padding
        c = doc.c
        c.saveState()
        c.setFillColorRGB(*CARD_GREEN)
        c.rect(doc.pt(card.x), doc.y(card.bottom), doc.pt(card.w), doc.pt(card.h),
               stroke=0, fill=1)
        c.restoreState()
        _cut_marks(doc, card, m.cut_mark_gap, m.cut_mark_length)
        doc.text(card.x + p, card.y + 5.0, "通知カード", m.card_title_size)
        doc.text(card.right - p, card.y + 5.0, settings.municipality, m.card_title_size,
                 anchor="end")
        for label, dy in CARD_ROWS:
            doc.text(card.x + p, card.y + dy, label, m.card_label_size)
        doc.text(card.right - p - 14.0, card.y + 33.0, "性別", m.card_label_size)
        doc.text(card.right - p, card.bottom - 2.0, settings.office_title, m.card_text_size,
                 anchor="end")
        doc.line(s.margin, m.tear_line_y, s.page_width - s.margin, m.tear_line_y,
                 width=0.4, dash=(4, 3), gray=0.3)
        doc.text(s.page_width / 2, m.tear_line_y - 1.2, "切り取り線", m.form_label_size,
                 anchor="middle")
        f = m.form
        doc.text(f.x, f.y + 6.0, "個人番号カード交付申請書", m.form_title_size)
        top = f.y + 10.0
        table_w = m.label_width + m.field_width
        for i, label in enumerate(FORM_ROWS + BLANK_ROWS):
            y = top + i * m.row_height + (4.0 if i >= len(FORM_ROWS) else 0.0)
            box = Box(f.x, y, table_w, m.row_height)
            doc.rect(box, width=0.3)
            doc.rect(Box(f.x, y, m.label_width, m.row_height), width=0.3, fill_gray=0.93)
            doc.text(f.x + 2.0, y + m.row_height / 2 + 1.2, label, m.form_label_size)
        blanks_top = top + len(FORM_ROWS) * m.row_height + 4.0
        doc.text(f.x, blanks_top - 1.0, "ご記入ください", m.form_label_size)
        date_y = blanks_top + m.row_height * 1.5 + 1.2
        doc.text(f.x + m.label_width + 20.0, date_y, "年　　　月　　　日", m.form_text_size)
        ph = m.photo
        doc.rect(ph, width=0.5, dash=(2, 1.5))
        for i, line in enumerate(PHOTO_TEXT):
            doc.text(ph.x + ph.w / 2, ph.y + 16.0 + i * 5.0, line, m.form_label_size,
                     anchor="middle")
        q = m.qr
        doc.text(q.x + q.w / 2, q.bottom + 3.5, "オンライン申請用", m.form_label_size,
                 anchor="middle")
        help_y = blanks_top + len(BLANK_ROWS) * m.row_height + 34.0
        for i, line in enumerate(FORM_HELP):
            doc.text(f.x, help_y + i * 5.0, line, m.form_label_size)
    return draw


def draw_member_sheet(doc: Document, spec: PrintSpec, hh: Household, member: Member,
                      settings, qr_payload: str, footer: str) -> None:
    """Draw one member's sheet (the caller ends the page)."""
    m = spec.member
    doc.furniture("MemberSheet", _furniture(settings))
    card, p = m.card, m.card_padding
    vx = card.x + CARD_VALUE_X
    vw = card.right - p - vx
    rows = dict(CARD_ROWS)
    doc.text(vx, card.y + rows["フリガナ"], member.kana, m.card_label_size, max_width=vw)
    doc.name(vx, card.y + rows["氏名"], member.name, m.card_name_size, max_width=vw)
    if member.alias:
        doc.name(vx, card.y + rows["通称"], member.alias, m.card_text_size, max_width=vw)
    addr = doc.wrap(member.address, m.card_text_size, vw, NAME_CHAIN)[:2]
    if member.address_extra:
        addr.append(member.address_extra)
    for i, line in enumerate(addr[:3]):
        doc.name(vx, card.y + rows["住所"] + i * 3.0, line, m.card_text_size, max_width=vw)
    doc.text(vx, card.y + rows["生年月日"], both_calendars(member.date_of_birth),
             m.card_text_size, max_width=vw - 18.0)
    doc.text(card.right - p, card.y + rows["生年月日"], SEX_LABELS.get(member.sex_code, ""),
             m.card_text_size, anchor="end")
    doc.text(vx, card.y + rows["個人番号"] + 0.8, format_my_number(member.my_number),
             m.card_number_size)
    doc.text(vx, card.y + rows["発行日"], wareki(hh.issue_date), m.card_text_size)

    f = m.form
    top = f.y + 10.0
    x = f.x + m.label_width + 2.0
    w = m.field_width - 4.0
    base = m.row_height / 2 + 1.5
    values = (member.kana, None, member.alias or "", None,
              f"{both_calendars(member.date_of_birth)}　性別 {SEX_LABELS.get(member.sex_code, '')}",
              format_application_id(member.application_id))
    for i, value in enumerate(values):
        if value:
            doc.text(x, top + i * m.row_height + base, value, m.form_text_size, max_width=w)
    doc.name(x, top + m.row_height + base + 0.6, member.name, m.form_name_size, max_width=w)
    doc.name(x, top + 3 * m.row_height + base, member.full_address, m.form_text_size, max_width=w)
    doc.text(f.right - 1.0, f.y + 6.0, "申請書ID " + format_application_id(member.application_id),
             m.form_label_size, anchor="end")
    draw_qr(doc.c, qr_payload, doc.pt(m.qr.x), doc.y(m.qr.y), doc.pt(m.qr.w))

    substituted, pairs = substitute_name(member.name)
    if pairs:
        y = top + (len(FORM_ROWS) + len(BLANK_ROWS)) * m.row_height + 12.0
        doc.text(f.x, y, SUBSTITUTE_NOTE, m.form_label_size)
        listed = "、".join(f"{a}（U+{ord(a):04X}）→{b}" for a, b in pairs)
        doc.name(f.x + 4.0, y + 5.0, listed, m.form_text_size, max_width=m.field_width)
        doc.text(f.x + 4.0, y + 10.5, f"代替文字による氏名：{substituted}", m.form_text_size,
                 max_width=m.field_width)
    doc.footer(footer)
