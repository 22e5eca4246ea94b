"""Address sheet: shows through the envelope window, then a short cover letter.

Variable per envelope: postcode, address, the head's name with 様, the customer barcode,
the registered-mail number (text and NW-7), the list of enclosed members, and the note
that N members follow separately. Everything else is furniture drawn once per document.
"""

from __future__ import annotations

from collections.abc import Callable

from core.errors import ConfigError
from layouts.barcodes import codabar_ops, customer_barcode_ops
from layouts.document import Document
from layouts.fit import draw_field, enclosed_entry
from layouts.print_settings import PrintSettings
from layouts.records import Household, format_postcode, format_registered_mail, wareki
from layouts.spec import MIN_PRINT_PT, MM_PER_PT, Box, PrintSpec

#: what the letter calls the enclosed notice, by notice format (docs/domain.md#individual-number-notice-2020)
NOTICE_NAMES = {"2015-card": "通知カード", "2020-notice": "個人番号通知書"}
LETTER_TITLE = "{notice}の送付について"
LETTER_BODY = (
    "行政手続における特定の個人を識別するための番号の利用等に関する法律に基づき、"
    "あなたの世帯の皆様の個人番号（マイナンバー）をお知らせする{notice}をお送りします。"
    "{notice}は切り取り線で切り離し、大切に保管してください。"
    "個人番号カードを希望される方は、{notice}の下の交付申請書に写真を貼り、"
    "同封の返信用封筒でお送りいただくか、QRコードからオンラインで申請してください。"
)
ENCLOSED_HEADING = "同封している{notice}・交付申請書"
SEPARATE_NOTE = "このほか {n}名分の{notice}は、別途お送りします。"
MARKS = ("簡易書留", "転送不要")
MORE_NOTE = "ほか {n}名（同封の{notice}をご確認ください）"


def _notice(settings: PrintSettings) -> str:
    return NOTICE_NAMES[settings.notice_format]


def _furniture(settings: PrintSettings) -> Callable[[Document], None]:
    def draw(doc: Document) -> None:
        a = doc.spec.address
        m = a.marks
        half = (m.w - a.mark_gap) / 2
        for i, label in enumerate(MARKS):
            box = Box(m.x + i * (half + a.mark_gap), m.y, half, a.mark_box_height)
            doc.rect(box, width=a.mark_frame)
            doc.text(box.x + box.w / 2, box.y + a.mark_baseline_dy, label, a.mark_size,
                     anchor="middle")
        doc.text(m.x, a.mail_label_y, "引受番号", a.sender_size)
        s = a.sender
        doc.rect(s, width=a.mark_frame / 2)
        lines = ("差出人", f"〒{settings.sender_postcode}", settings.sender_address,
                 settings.office_title, settings.office_name)
        room = s.w - 2 * a.sender_padding
        for i, line in enumerate(lines):
            # the sender comes from settings: refuse one that would print under the minimum
            if doc.text_width(line, MIN_PRINT_PT) > room:
                raise ConfigError("the sender (municipality settings) is too long for the "
                                  f"sender box at {MIN_PRINT_PT:g} pt")
            doc.text(s.x + a.sender_padding, s.y + a.sender_first_dy + i * a.sender_leading,
                     line, a.sender_size, max_width=room)
        lt = a.letter
        notice = _notice(settings)
        doc.text(lt.x + lt.w / 2, lt.y + a.letter_title_dy, LETTER_TITLE.format(notice=notice),
                 a.letter_title_size, anchor="middle")
        y = lt.y + a.letter_body_dy
        for line in doc.wrap(LETTER_BODY.format(notice=notice), a.letter_size, lt.w):
            doc.text(lt.x, y, line, a.letter_size)
            y += a.letter_leading
        y += a.letter_heading_gap
        doc.text(lt.x, y, ENCLOSED_HEADING.format(notice=notice), a.letter_size)
        doc.line(lt.x, y + a.letter_rule_gap, lt.right, y + a.letter_rule_gap)
        contact = f"お問い合わせ：{settings.office_name} 電話 {settings.telephone}"
        doc.text(lt.x, lt.bottom - a.letter_contact_dy, contact, a.letter_size * a.letter_small)
    return draw


def letter_list_top(doc: Document, notice: str = NOTICE_NAMES["2015-card"]) -> float:
    """y (mm) of the first enclosed-member line: below the fixed body text."""
    a = doc.spec.address
    n = len(doc.wrap(LETTER_BODY.format(notice=notice), a.letter_size, a.letter.w))
    return a.letter.y + a.letter_body_dy + n * a.letter_leading + a.letter_list_gap


def draw_address_sheet(doc: Document, spec: PrintSpec, hh: Household, settings: PrintSettings,
                       barcode_bars: str | None, footer: str) -> None:
    """Draw page 1 of an envelope (the caller ends the page)."""
    a = spec.address
    doc.furniture("AddressSheet", _furniture(settings))
    x = a.window.x + a.window_padding
    y = a.window.y + a.window_padding + a.postcode_size * MM_PER_PT
    doc.text(x, y, format_postcode(hh.postal_code), a.postcode_size)
    draw_field(doc, a.address_field, hh.full_address)
    draw_field(doc, a.name_field, f"{hh.head.name} 様")
    if barcode_bars:
        doc.literal(customer_barcode_ops(barcode_bars, doc.pt(x), doc.y(a.barcode_y),
                                         spec.customer_barcode))
    mail = hh.registered_mail_number or ""
    doc.text(a.marks.x, a.mail_number_y, format_registered_mail(mail), a.address_size)
    doc.literal(codabar_ops(mail, doc.pt(a.marks.x), doc.y(a.mail_barcode_y), spec.codabar))

    lt = a.letter
    notice = _notice(settings)
    doc.text(lt.right, lt.y + a.letter_addressee_dy, wareki(hh.issue_date), a.letter_size,
             anchor="end")
    doc.text(lt.right, lt.y + a.letter_signature_dy, settings.office_title, a.letter_size,
             anchor="end")
    draw_field(doc, a.addressee_field, f"{hh.head.name} 様")
    y = letter_list_top(doc, notice) - a.letter_size * MM_PER_PT * 0.88
    bottom = lt.bottom - a.letter_contact_dy - a.letter_leading
    printed = hh.printed
    entry = a.entry_field
    for i, m in enumerate(printed, 1):
        # keep room for the "more" line and the separate-mail note below the list
        if y + entry.box.h + 2 * a.letter_leading > bottom and i < len(printed):
            doc.text(lt.x + a.letter_list_indent, y + a.letter_leading,
                     MORE_NOTE.format(n=len(printed) - i + 1, notice=notice), a.letter_size)
            y += a.letter_leading
            break
        lines = draw_field(doc, entry.at(y), enclosed_entry(i, m.name, m.is_head))
        y += max(1, lines) * a.letter_leading
    if hh.manual:
        doc.text(lt.x + a.letter_list_indent, y + a.letter_leading,
                 SEPARATE_NOTE.format(n=len(hh.manual), notice=notice), a.letter_size)
    doc.footer(footer)
