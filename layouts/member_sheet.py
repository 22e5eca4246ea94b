"""Member sheet: notification card (ID-1, inside cut marks) on top, application form below.

Variable per member: name, kana, alias, address, dates, sex, My Number, application id,
QR code and the substitute-character note; frames, labels, cut marks, the tear line, the
photo box and the blanks are furniture drawn once per document.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from layouts.colours import CARD_TINT, LABEL_FILL
from layouts.document import Document
from layouts.fit import draw_field
from layouts.print_settings import PrintSettings
from layouts.qr import draw_qr
from layouts.records import (
    SEX_LABELS,
    Household,
    Member,
    both_calendars,
    format_application_id,
    format_my_number,
    seireki,
    substitute_name,
    wareki,
)
from layouts.spec import ASCENT, MM_PER_PT, Box, MemberSheetSpec, PrintSpec

#: rows of the form table the plan fills: the spec's form_rows
FORM_ROWS = MemberSheetSpec().form_rows
BLANK_ROWS = ("電話番号", "申請日", "署名")
#: the boxes of the 2015 form (docs/domain.md#application-form): certificates, braille, representative
EXTRA_ROWS = ("電子証明書", "点字", "法定代理人")
EXTRA_TEXT = {
    "電子証明書": "□ 署名用電子証明書 不要　　□ 利用者証明用電子証明書 不要",
    "点字": "□ 右欄の点字表記を希望する　氏名（カナ）：",
    "法定代理人": "氏名：　　　　　　　　　　続柄：",
}
FORM_TITLE = "個人番号カード交付申請書 兼 電子証明書発行申請書"
UNDER_15_NOTE = "15歳未満：法定代理人が記入・署名（署名用電子証明書は発行されません）"
PHOTO_TEXT = ("写真", "縦45mm × 横35mm", "正面・無帽・無背景", "6か月以内に撮影")
FORM_HELP = ("記入・写真の貼付後、同封の返信用封筒でお送りください。",
             "QRコードを読み取るとスマートフォンから申請できます（申請書IDが入っています）。")
SUBSTITUTE_NOTE = "代替文字：氏名の一部の文字は、次の文字で表示しています。"
#: the 2020 notice's statement (docs/domain.md#individual-number-notice-2020)
NOTICE_STATEMENT = ("この通知書は、個人番号を証明する書類や身分証明書として"
                    "利用することはできません。")
#: under this age a legal representative (法定代理人) applies (docs/domain.md#application-form)
REPRESENTATIVE_AGE = 15


def age_on(born: dt.date, day: dt.date) -> int:
    """Completed years on ``day`` (a 29 February birthday counts on 1 March)."""
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def _card_tint(doc: Document, card: Box, bleed: float) -> None:
    """The card's CMYK tint, bleeding ``bleed`` mm past the cut line on every side
    (docs/domain.md#pdfx-4-for-print-shops)."""
    c = doc.c
    c.saveState()
    c.setFillColorCMYK(*CARD_TINT.components)
    c.rect(doc.pt(card.x - bleed), doc.y(card.bottom + bleed), doc.pt(card.w + 2 * bleed),
           doc.pt(card.h + 2 * bleed), stroke=0, fill=1)
    c.restoreState()


def _cut_marks(doc: Document, card: Box, gap: float, length: float, width: float) -> None:
    for cx in (card.x, card.right):
        for cy in (card.y, card.bottom):
            sx = -1 if cx == card.x else 1
            sy = -1 if cy == card.y else 1
            doc.line(cx + sx * gap, cy, cx + sx * (gap + length), cy, width=width)
            doc.line(cx, cy + sy * gap, cx, cy + sy * (gap + length), width=width)


def _blanks_top(m: MemberSheetSpec) -> float:
    return m.form.y + m.table_dy + len(FORM_ROWS) * m.row_height + m.blanks_gap


def _label_baseline(m: MemberSheetSpec, label: str) -> float:
    """A card label sits on the first baseline its value has at the preferred size."""
    f = m.card_field(label)
    return f.box.y + ASCENT * f.size * MM_PER_PT


def _card_furniture(doc: Document, settings: PrintSettings) -> None:
    m = doc.spec.member
    card, p = m.card, m.card_padding
    notice = settings.notice_format == "2020-notice"
    if notice:      # the notice is part of the A4 sheet: a frame, no card tint
        doc.rect(card, width=m.line_width)
    else:
        _card_tint(doc, card, m.card_bleed)
    _cut_marks(doc, card, m.cut_mark_gap, m.cut_mark_length, m.line_width)
    doc.text(card.x + p, card.y + m.card_title_dy, "個人番号通知書" if notice else "通知カード",
             m.card_title_size)
    doc.text(card.right - p, card.y + m.card_title_dy, settings.municipality,
             m.card_title_size, anchor="end")
    labels = ("氏名", "通称") if notice else ("氏名", "通称", "住所")
    for label in labels:
        doc.text(card.x + p, _label_baseline(m, label), label, m.card_label_size)
    rows = dict(m.card_rows)
    for label, dy in m.card_rows:
        doc.text(card.x + p, card.y + dy, label, m.card_label_size)
    if notice:
        box = m.card_field("住所").box
        for i, line in enumerate(doc.wrap(NOTICE_STATEMENT, m.card_label_size, box.w + (box.x - card.x - p))):
            doc.text(card.x + p, box.y + 3 + i * 3.2, line, m.card_label_size)
    else:
        doc.text(card.right - p - m.card_sex_dx, card.y + rows["生年月日"], "性別",
                 m.card_label_size)
    doc.text(card.right - p, card.bottom - m.card_issuer_dy, f"発行者　{settings.office_title}",
             m.card_label_size, anchor="end")


def _furniture(settings: PrintSettings) -> Callable[[Document], None]:
    def draw(doc: Document) -> None:
        s, m = doc.spec, doc.spec.member
        _card_furniture(doc, settings)
        doc.line(s.margin, m.tear_line_y, s.page_width - s.margin, m.tear_line_y,
                 width=m.line_width, dash=(4, 3))
        doc.text(s.page_width / 2, m.tear_line_y - m.tear_label_dy, "切り取り線",
                 m.form_label_size, anchor="middle")
        f = m.form
        doc.text(f.x, f.y + m.form_title_dy, FORM_TITLE, m.form_title_size)
        table_w = m.label_width + m.field_width
        tops = [f.y + m.table_dy + i * m.row_height for i in range(len(FORM_ROWS))]
        blanks = _blanks_top(m)
        tops += [blanks + i * m.row_height for i in range(len(BLANK_ROWS) + len(EXTRA_ROWS))]
        for y, label in zip(tops, FORM_ROWS + BLANK_ROWS + EXTRA_ROWS, strict=True):
            doc.rect(Box(f.x, y, table_w, m.row_height), width=m.line_width)
            doc.rect(Box(f.x, y, m.label_width, m.row_height), width=m.line_width,
                     fill_gray=LABEL_FILL.level)
            doc.text(f.x + m.label_padding, y + m.row_height / 2 + m.label_baseline_drop,
                     label, m.form_label_size)
            if label in EXTRA_TEXT:
                doc.text(f.x + m.label_width + m.label_padding,
                         y + m.row_height / 2 + m.label_baseline_drop, EXTRA_TEXT[label],
                         m.form_label_size)
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
        help_y = _notes_top(m) + m.help_dy
        for i, line in enumerate(FORM_HELP):
            doc.text(f.x, help_y + i * m.help_leading, line, m.form_label_size)
    return draw


def _notes_top(m: MemberSheetSpec) -> float:
    return _blanks_top(m) + (len(BLANK_ROWS) + len(EXTRA_ROWS)) * m.row_height


def card_birth_date(member: Member) -> str:
    """和暦 for Japanese nationals, 西暦 for foreign residents (docs/domain.md#notification-card-2015)."""
    return seireki(member.date_of_birth) if member.foreign_resident else wareki(member.date_of_birth)


def draw_member_sheet(doc: Document, spec: PrintSpec, hh: Household, member: Member,
                      settings: PrintSettings, qr_payload: str, footer: str) -> None:
    """Draw one member's sheet (the caller ends the page)."""
    m = spec.member
    notice = settings.notice_format == "2020-notice"
    doc.furniture("NoticeSheet" if notice else "MemberSheet", _furniture(settings))
    card = m.card
    vx = card.x + m.card_value_dx
    rows = dict(m.card_rows)
    draw_field(doc, m.card_field("氏名"), member.name)
    draw_field(doc, m.card_field("通称"), member.alias)
    if not notice:      # the 2020 notice carries no address or sex
        draw_field(doc, m.card_field("住所"), member.full_address)
        doc.text(card.right - m.card_padding, card.y + rows["生年月日"],
                 SEX_LABELS.get(member.sex_code, ""), m.card_text_size, anchor="end")
    doc.text(vx, card.y + rows["生年月日"], card_birth_date(member), m.card_text_size)
    doc.text(vx, card.y + rows["個人番号"] + m.card_number_drop,
             format_my_number(member.my_number or ""), m.card_number_size)
    doc.text(vx, card.y + rows["発行日"], wareki(hh.issue_date), m.card_text_size)

    f = m.form
    top = f.y + m.table_dy
    x = f.x + m.label_width + m.label_padding
    base = m.row_height / 2 + m.value_baseline_drop
    app_id = format_application_id(member.application_id or "")
    sex = SEX_LABELS.get(member.sex_code, "")
    texts = {"フリガナ": member.kana, "氏名": member.name, "通称": member.alias,
             "住所": member.full_address}
    for i, label in enumerate(FORM_ROWS[:4]):
        draw_field(doc, m.form_field(label, i), texts[label])
    fixed = {"生年月日": f"{both_calendars(member.date_of_birth)}　性別 {sex}", "申請書ID": app_id}
    for i, label in enumerate(FORM_ROWS[4:], 4):
        doc.text(x, top + i * m.row_height + base, fixed[label], m.form_text_size)
    doc.text(f.right, f.y + m.form_title_dy, "申請書ID " + app_id, m.form_label_size,
             anchor="end")
    draw_qr(doc.c, qr_payload, doc.pt(m.qr.x), doc.y(m.qr.y), doc.pt(m.qr.w))
    if age_on(member.date_of_birth, hh.issue_date) < REPRESENTATIVE_AGE:
        rep = _blanks_top(m) + (len(BLANK_ROWS) + 2) * m.row_height
        doc.text(x, rep + m.row_height - 1.2, UNDER_15_NOTE, m.form_label_size)

    substituted, pairs = substitute_name(member.name)
    if pairs:
        y = _notes_top(m) + m.note_dy
        doc.text(f.x, y, SUBSTITUTE_NOTE, m.form_label_size)
        listed = "、".join(f"{a}（U+{ord(a):04X}）→{b}" for a, b in pairs)
        doc.name(f.x + m.note_indent, y + m.note_leading, listed, m.form_text_size,
                 max_width=m.field_width)
        doc.text(f.x + m.note_indent, y + 2 * m.note_leading, f"代替文字による氏名：{substituted}",
                 m.form_text_size, max_width=m.field_width)
    doc.footer(footer)


#: columns of the 追記欄 (docs/domain.md#notification-card-2015): date, what changed, the seal
BACK_COLUMNS = (("年月日", 0.25), ("追記事項", 0.55), ("職印", 0.20))
BACK_ROWS = 5


def back_card_box(spec: PrintSpec) -> Box:
    """The card's rectangle on the back page: mirrored left-right (long-edge duplex)."""
    c = spec.member.card
    return Box(spec.page_width - c.right, c.y, c.w, c.h)


def _back_furniture(settings: PrintSettings) -> Callable[[Document], None]:
    def draw(doc: Document) -> None:
        m = doc.spec.member
        card, p = back_card_box(doc.spec), m.card_padding
        _card_tint(doc, card, m.card_bleed)  # the back's tint bleeds like the front's
        _cut_marks(doc, card, m.cut_mark_gap, m.cut_mark_length, m.line_width)
        doc.text(card.x + p, card.y + m.card_title_dy, "追記欄", m.card_title_size)
        top = card.y + m.card_title_dy + 2.0
        inner = card.w - 2 * p
        row_h = (card.bottom - p - top) / (BACK_ROWS + 1)
        x = card.x + p
        for label, share in BACK_COLUMNS:
            w = inner * share
            doc.rect(Box(x, top, w, row_h), width=m.line_width, fill_gray=0.93)
            doc.text(x + w / 2, top + row_h / 2 + 1.2, label, m.card_label_size, anchor="middle")
            for r in range(1, BACK_ROWS + 1):
                doc.rect(Box(x, top + r * row_h, w, row_h), width=m.line_width)
            x += w
    return draw


def draw_sheet_back(doc: Document, settings: PrintSettings, member: Member | None,
                    footer: str) -> None:
    """The back of a sheet in a duplex batch: the card's 追記欄 behind a 2015 card, else only
    the footer (the address sheet, the 2020 notice, which has no 追記欄)."""
    if member is not None and settings.notice_format != "2020-notice":
        doc.furniture("CardBack", _back_furniture(settings))
    doc.footer(footer)
