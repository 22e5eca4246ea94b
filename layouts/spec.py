"""Print geometry: one frozen spec in millimetres that checks itself.

Every coordinate a drawing function uses comes from here, measured from the TOP-LEFT
corner of the A4 sheet (the way a form designer measures); ``layouts.document`` turns
them into PDF points. ``PrintSpec.check()`` runs at construction, so a wrong edit (a card
that is no longer ID-1, a photo box that slips out of the form, bars out of the manual's
tolerance) fails at import, not on paper.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import cached_property, wraps
from typing import TypeVar

from core.errors import ConfigError

MM_PER_PT = 25.4 / 72
#: first baseline below a text box's top, as a fraction of the size (IPA fonts: ascent 0.88 em)
ASCENT = 0.88
#: a text box also holds the descent of its last line
DESCENT = 0.12
#: minimum legible sizes (docs/domain.md#legible-text-sizes)
MIN_WINDOW_PT = 9.0
MIN_PRINT_PT = 7.0


_S = TypeVar("_S")
_F = TypeVar("_F")


def _per_spec(method: Callable[[_S, str, int], _F] | Callable[[_S, str], _F]) -> Callable[..., _F]:
    """Keep a frozen spec's derived text field per arguments, in the spec's own ``__dict__``.

    Specs never change, and a batch asks for the same fields ~40 times per household (the
    plan check, the glyph check, the drawing); building a TextField each time was ~4 % of
    rendering. The cache is not a dataclass field: equality, hashing and ``replace`` ignore it.
    The methods take positional arguments only (the cache key is the argument tuple).
    """
    slot = f"_per_spec_{method.__name__}"

    @wraps(method)
    def cached(self: _S, *args: object) -> _F:
        cache: dict[tuple[object, ...], _F] = self.__dict__.setdefault(slot, {})
        hit = cache.get(args)
        if hit is None:
            hit = cache[args] = method(self, *args)  # type: ignore[arg-type]
        return hit

    return cached


def _check(ok: bool, rule: str) -> None:
    """A geometry rule that must hold (an ``assert`` would vanish under ``python -O``)."""
    if not ok:
        raise ConfigError(f"print spec: {rule}")


@dataclass(frozen=True)
class Box:
    """A rectangle in mm from the sheet's top-left corner."""

    x: float
    y: float
    w: float
    h: float

    @property
    def right(self) -> float:
        return self.x + self.w

    @property
    def bottom(self) -> float:
        return self.y + self.h

    def contains(self, other: Box) -> bool:
        return (self.x <= other.x and self.y <= other.y
                and other.right <= self.right + 1e-9 and other.bottom <= self.bottom + 1e-9)

    def overlaps(self, other: Box) -> bool:
        return not (other.x >= self.right or other.right <= self.x
                    or other.y >= self.bottom or other.bottom <= self.y)


@dataclass(frozen=True)
class TextField:
    """One variable text field: its box, preferred size and minimum legible size.

    ``name`` is what a refusal names (``card.name``); sizes in points, the box in mm from
    the sheet's top-left; ``leading`` is the line pitch as a multiple of the size;
    ``anchor`` is where each line is aligned in the box (start, middle or end).
    """

    name: str
    box: Box
    size: float
    min_size: float
    max_lines: int = 1
    leading: float = 1.2
    step: float = 0.5
    names: bool = False          # drawn in the name font chain (IPAmj Mincho first)
    words: bool = False          # break only at spaces (names), else between characters
    anchor: str = "start"
    valign: str = "top"          # or "middle": the lines centred in the box

    def lines_at(self, size: float) -> int:
        """How many lines of ``size`` pt the box holds (at most ``max_lines``)."""
        em = size * MM_PER_PT
        room = (self.box.h / em - ASCENT - DESCENT) / self.leading + 1
        return max(0, min(self.max_lines, math.floor(room + 1e-9)))

    def sizes(self) -> list[float]:
        """Preferred size first, then down in ``step`` to the minimum."""
        n = int(round((self.size - self.min_size) / self.step + 1e-9))
        return [round(self.size - i * self.step, 2) for i in range(n + 1)]

    def at(self, y: float) -> TextField:
        """The same field with its box top moved to ``y`` (list entries)."""
        return replace(self, box=replace(self.box, y=y))

    def check(self) -> None:
        _check(self.min_size <= self.size and self.lines_at(self.size) >= 1,
               f"text field {self.name}: box too small for one line at its size")


@dataclass(frozen=True)
class CustomerBarcodeSpec:
    """Bar sizes at 10 pt from the manual (p12): ratio 6:2:2:1 for long:timing:pitch:width."""

    point_size: float = 10.0
    long_bar: float = 3.6
    timing_bar: float = 1.2
    pitch: float = 1.2
    bar_width: float = 0.6
    quiet_zone: float = 2.0

    @property
    def scale(self) -> float:
        return self.point_size / 10.0

    def check(self) -> None:
        a = self.scale
        _check(8 <= self.point_size <= 11.5,
               "customer barcode must be 8-11.5 pt")
        _check(3.40 * a <= self.long_bar <= 3.60 * a + 1e-9,
               "3.40 * a <= long_bar <= 3.60 * a + 1e-9")
        _check(1.05 * a <= self.timing_bar <= 1.35 * a,
               "1.05 * a <= timing_bar <= 1.35 * a")
        _check(0.95 * a <= self.pitch <= 1.30 * a,
               "0.95 * a <= pitch <= 1.30 * a")
        _check(0.50 * a <= self.bar_width <= 0.70 * a,
               "0.50 * a <= bar_width <= 0.70 * a")
        _check(0.45 * a <= self.pitch - self.bar_width <= 0.60 * a + 1e-9,
               "0.45 * a <= pitch - bar_width <= 0.60 * a + 1e-9")

    def width(self, bars: int = 67) -> float:
        return (bars - 1) * self.pitch + self.bar_width


@dataclass(frozen=True)
class CodabarSpec:
    """NW-7 (Codabar) for the registered-mail number, as on Japan Post labels."""

    narrow: float = 0.30
    wide_ratio: float = 2.5
    height: float = 8.0

    def check(self) -> None:
        _check(self.narrow >= 0.19 and 2.0 <= self.wide_ratio <= 3.0 and self.height >= 5,
               "narrow >= 0.19 and 2.0 <= wide_ratio <= 3.0 and height >= 5")


@dataclass(frozen=True)
class AddressSheetSpec:
    """Address sheet for a 長3 window envelope: the window box must hold the address.

    Offsets (``*_dy``, ``*_dx``) are relative to the box they belong to.
    """

    window: Box = Box(20.0, 14.0, 100.0, 52.0)
    window_padding: float = 4.0
    postcode_size: float = 13.0
    address_size: float = 11.0
    name_size: float = 16.0
    line_gap: float = 1.6
    postcode_gap: float = 1.5        # extra space between postcode and address
    name_y: float = 52.0             # baseline of "name 様", centred in the window
    address_top: float = 24.0        # the address box, below the postcode line
    address_height: float = 16.5
    name_top: float = 41.0           # the "name 様" box, above the barcode's quiet zone
    name_height: float = 15.0
    letter_addressee_top: float = 10.0
    letter_addressee_width: float = 100.0   # the date and signature sit right of it
    letter_entry_height: float = 9.0        # an enclosed-member entry: up to two lines
    letter_min_size: float = 8.0
    barcode_y: float = 58.0          # top of the customer barcode, inside the window
    marks: Box = Box(132.0, 14.0, 58.0, 24.0)   # 簡易書留 / 転送不要, then the number
    mark_size: float = 14.0
    mark_box_height: float = 10.0
    mark_gap: float = 2.0
    mark_baseline_dy: float = 7.2
    mark_frame: float = 1.0          # line width of the mark boxes
    mail_label_y: float = 39.0       # 引受番号 label baseline
    mail_number_y: float = 44.0      # formatted registered-mail number baseline
    mail_barcode_y: float = 47.0     # top of the NW-7 bars
    sender: Box = Box(132.0, 62.0, 58.0, 26.0)
    sender_size: float = 9.0
    sender_padding: float = 3.0
    sender_first_dy: float = 5.0
    sender_leading: float = 4.6
    letter: Box = Box(20.0, 100.0, 170.0, 170.0)
    letter_title_size: float = 14.0
    letter_title_dy: float = 6.0
    letter_size: float = 10.5
    letter_leading: float = 6.0
    letter_addressee_dy: float = 14.0   # "name 様" left, date right
    letter_signature_dy: float = 20.0   # 練馬区長 right
    letter_body_dy: float = 26.0
    letter_heading_gap: float = 4.0     # body → "enclosed" heading
    letter_rule_gap: float = 1.5        # heading baseline → rule
    letter_list_gap: float = 11.0       # body end → first listed member
    letter_list_indent: float = 4.0
    letter_contact_dy: float = 2.0      # above the letter box bottom
    letter_small: float = 0.85          # contact line size, relative

    @cached_property   # a frozen spec's field: built once (see _per_spec)
    def address_field(self) -> TextField:
        w, p = self.window, self.window_padding
        return TextField("window.address", Box(w.x + p, self.address_top, w.w - 2 * p,
                                               self.address_height),
                         self.address_size, MIN_WINDOW_PT, max_lines=3, names=True)

    @cached_property   # a frozen spec's field: built once (see _per_spec)
    def name_field(self) -> TextField:
        w, p = self.window, self.window_padding
        return TextField("window.name", Box(w.x + p, self.name_top, w.w - 2 * p, self.name_height),
                         self.name_size, MIN_WINDOW_PT, max_lines=2, names=True, words=True,
                         anchor="middle", valign="middle")

    @cached_property   # a frozen spec's field: built once (see _per_spec)
    def addressee_field(self) -> TextField:
        lt = self.letter
        return TextField("letter.addressee",
                         Box(lt.x, lt.y + self.letter_addressee_top, self.letter_addressee_width,
                             self.letter_entry_height),
                         self.letter_size, self.letter_min_size, max_lines=2, names=True,
                         words=True)

    @cached_property   # a frozen spec's field: built once (see _per_spec)
    def entry_field(self) -> TextField:
        """One enclosed member in the letter's list (``at(y)`` places it)."""
        lt = self.letter
        return TextField("letter.member", Box(lt.x + self.letter_list_indent, 0.0,
                                              lt.w - self.letter_list_indent,
                                              self.letter_entry_height),
                         self.letter_size, self.letter_min_size, max_lines=2, names=True,
                         words=True)

    def text_fields(self) -> tuple[TextField, ...]:
        return (self.address_field, self.name_field, self.addressee_field, self.entry_field)


@dataclass(frozen=True)
class MemberSheetSpec:
    """Notification card (ID-1) at the top, application form below the cut line.

    Offsets (``*_dy``, ``*_dx``) are relative to the card or the form box.
    """

    card: Box = Box((210.0 - 85.60) / 2, 16.0, 85.60, 53.98)
    card_padding: float = 3.0
    card_bleed: float = 3.0              # the tint (layouts.colours.CARD_TINT) past the cut line
    cut_mark_length: float = 5.0
    cut_mark_gap: float = 3.0            # marks start outside the tint's bleed
    card_title_size: float = 8.0
    card_title_dy: float = 5.0
    card_label_size: float = 7.0         # the card's minimum (docs/domain.md#legible-text-sizes)
    card_text_size: float = 8.0
    card_name_size: float = 10.0
    card_number_size: float = 11.0
    card_value_dx: float = 14.0          # values start here; labels at the padding
    #: field → (box top, box height) from the card top: 氏名, 通称, 住所 wrap in their boxes
    card_boxes: tuple[tuple[str, float, float], ...] = (
        ("氏名", 6.5, 7.0), ("通称", 14.0, 5.6), ("住所", 20.0, 11.0))
    #: fixed one-line rows: label → baseline offset from the card top
    card_rows: tuple[tuple[str, float], ...] = (
        ("生年月日", 34.5), ("個人番号", 41.5), ("発行日", 47.0))
    card_address_leading: float = 3.0
    card_sex_dx: float = 14.0            # 性別 label left of the right edge
    card_sex_room: float = 18.0          # the date of birth leaves this much for 性別
    card_number_drop: float = 0.8        # the big number sits a little lower
    card_issuer_dy: float = 2.0          # above the card bottom
    tear_line_y: float = 84.0
    tear_label_dy: float = 1.2
    form: Box = Box(15.0, 92.0, 180.0, 180.0)
    form_title_size: float = 13.0
    form_title_dy: float = 6.0
    form_label_size: float = 7.5
    form_text_size: float = 10.0
    form_name_size: float = 14.0
    table_dy: float = 10.0
    row_height: float = 11.0
    label_width: float = 26.0
    label_padding: float = 2.0
    label_baseline_drop: float = 1.2     # below the row's middle
    value_baseline_drop: float = 1.5
    field_width: float = 108.0
    blanks_gap: float = 4.0              # between the printed rows and the blanks
    date_blank_dx: float = 20.0
    qr: Box = Box(158.0, 104.0, 30.0, 30.0)      # includes a 4-module quiet zone
    qr_caption_dy: float = 3.5
    photo: Box = Box(153.0, 150.0, 35.0, 45.0)    # 45 high × 35 wide (the law's size)
    photo_text_dy: float = 16.0
    photo_text_leading: float = 5.0
    photo_frame: float = 0.5
    note_dy: float = 7.0                 # substitute-character note below the blanks
    note_leading: float = 5.5
    note_indent: float = 4.0
    help_dy: float = 24.0                # help lines below the blanks
    help_leading: float = 5.0
    line_width: float = 0.3
    blank_rows: int = 3                           # phone, date, signature
    #: rows of the form table that the plan fills (then the blanks the resident fills in)
    form_rows: tuple[str, ...] = ("フリガナ", "氏名", "通称", "住所", "生年月日", "申請書ID")
    value_inset: float = 0.8             # a value box inside its table row, top and bottom

    @_per_spec
    def card_field(self, label: str, /) -> TextField:
        """氏名, 通称 or 住所 on the card (or the 2020 notice, which uses the same area)."""
        top, height = {k: (t, h) for k, t, h in self.card_boxes}[label]
        vx = self.card.x + self.card_value_dx
        size = self.card_name_size if label == "氏名" else self.card_text_size
        return TextField(f"card.{label}", Box(vx, self.card.y + top,
                                              self.card.right - self.card_padding - vx, height),
                         size, MIN_PRINT_PT, max_lines=2 if label != "住所" else 3,
                         names=True, words=label != "住所")

    @_per_spec
    def form_field(self, label: str, row: int, /) -> TextField:
        """The value cell of table row ``row`` (フリガナ, 氏名, 通称, 住所) on the form."""
        top = self.form.y + self.table_dy + row * self.row_height + self.value_inset
        box = Box(self.form.x + self.label_width + self.label_padding, top,
                  self.field_width - 2 * self.label_padding, self.row_height - 2 * self.value_inset)
        size = self.form_name_size if label == "氏名" else self.form_text_size
        return TextField(f"form.{label}", box, size, MIN_PRINT_PT, max_lines=2,
                         names=label != "フリガナ", words=label in ("氏名", "通称", "フリガナ"),
                         valign="middle")


@dataclass(frozen=True)
class PrintSpec:
    """The whole geometry of a print batch."""

    page_width: float = 210.0
    page_height: float = 297.0
    margin: float = 10.0
    footer_y: float = 290.0          # baseline of the page-contract footer
    footer_size: float = 7.0
    demo_size: float = 60.0
    id1_width: float = 85.60
    id1_height: float = 53.98
    photo_height: float = 45.0
    photo_width: float = 35.0
    customer_barcode: CustomerBarcodeSpec = field(default_factory=CustomerBarcodeSpec)
    codabar: CodabarSpec = field(default_factory=CodabarSpec)
    address: AddressSheetSpec = field(default_factory=AddressSheetSpec)
    member: MemberSheetSpec = field(default_factory=MemberSheetSpec)

    def __post_init__(self) -> None:
        self.check()

    @property
    def printable(self) -> Box:
        m = self.margin
        return Box(m, m, self.page_width - 2 * m, self.page_height - 2 * m)

    def check(self) -> None:
        """Check (ConfigError) the geometry is what the law, the manual and the envelope need."""
        _check((self.page_width, self.page_height) == (210.0, 297.0),
               "A4 portrait")
        self.customer_barcode.check()
        self.codabar.check()
        a, m, p = self.address, self.member, self.printable
        for box in (a.window, a.marks, a.sender, a.letter, m.card, m.form, m.qr, m.photo):
            _check(p.contains(box),
                   f"{box} outside the printable area")
        _check(self.footer_y <= self.page_height - self.margin / 2,
               "footer_y <= page_height - margin / 2")
        _check(not a.window.overlaps(a.marks) and not a.window.overlaps(a.sender),
               "not a.window.overlaps(a.marks) and not a.window.overlaps(a.sender)")
        _check(a.window.bottom < a.letter.y and a.sender.bottom < a.letter.y,
               "a.window.bottom < a.letter.y and a.sender.bottom < a.letter.y")
        cb = self.customer_barcode
        _check(a.window.contains(Box(a.window.x + a.window_padding, a.barcode_y, cb.width(), cb.long_bar)),
               "barcode outside window")
        _check((m.card.w, m.card.h) == (self.id1_width, self.id1_height),
               "ID-1 card")
        _check(m.cut_mark_gap >= m.card_bleed, "cut marks inside the tint's bleed")
        outer = m.card.bottom + m.cut_mark_gap + m.cut_mark_length
        _check(outer < m.tear_line_y < m.form.y,
               "cut marks cross the tear line")
        _check((m.photo.h, m.photo.w) == (self.photo_height, self.photo_width),
               "photo 45×35")
        _check(m.form.contains(m.qr) and m.form.contains(m.photo),
               "m.form.contains(m.qr) and m.form.contains(m.photo)")
        _check(not m.qr.overlaps(m.photo),
               "not m.qr.overlaps(m.photo)")
        _check(m.form.x + m.label_width + m.field_width <= m.photo.x,
               "fields hit photo box")
        _check(m.qr.w == m.qr.h,
               "m.qr.w == m.qr.h")
        for tf in a.text_fields()[:2]:
            tf.check()
            _check(a.window.contains(tf.box), f"{tf.name} outside the window")
        _check(a.name_field.box.bottom + cb.quiet_zone <= a.barcode_y,
               "window name box reaches the barcode's quiet zone")
        for tf in a.text_fields()[2:]:
            tf.check()
            _check(a.letter.contains(tf.at(a.letter.y).box), f"{tf.name} outside the letter")
        for label, _, _ in m.card_boxes:
            tf = m.card_field(label)
            tf.check()
            _check(m.card.contains(tf.box), f"{tf.name} outside the card")
        for i, label in enumerate(m.form_rows[:4]):
            tf = m.form_field(label, i)
            tf.check()
            _check(m.form.contains(tf.box), f"{tf.name} outside the form")
        _check(all(0 < dy < m.card.h for _, dy in m.card_rows),
               "card row outside the card")
        _check(a.window.y < a.name_y < a.barcode_y,
               "name not above the barcode in the window")
        _check(a.marks.y + a.mark_box_height < a.mail_label_y < a.mail_number_y < a.mail_barcode_y,
               "a.marks.y + a.mark_box_height < a.mail_label_y < a.mail_number_y < a.mail_barcode_y")
        _check(a.mail_barcode_y + self.codabar.height <= a.sender.y,
               "a.mail_barcode_y + codabar.height <= a.sender.y")


#: the spec every sheet uses unless a test passes another
DEFAULT_SPEC = PrintSpec()
