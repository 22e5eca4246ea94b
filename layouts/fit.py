"""Fit text into its box: wrap first, shrink second, refuse last.

Every variable text field on a sheet has a :class:`TextField` in the spec: its box, a
preferred size and a minimum legible size (docs/domain.md#legible-text-sizes). A text is
wrapped at its preferred size onto as many lines as the box holds (Japanese breaks between
any two characters, Latin only between words, and kinsoku keeps 、。）」 off the start of
a line and （「 off its end); only when the lines do not fit does the size step down, and
only when nothing fits at the minimum is a Latin word broken by character. What does not
fit even then is refused: :func:`misfits` is what the plan stage calls so the resident
goes to manual handling with the reason, before anything is printed.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

import polars as pl

from layouts.fonts import NAME_CHAIN, TEXT_CHAIN, FontSet, advance_units
from layouts.spec import ASCENT, DESCENT, MM_PER_PT, PrintSpec, TextField

#: may not start a line (JIS X 4051 行頭禁則, the common subset)
NO_LINE_START = frozenset("、。，．,.:;!?)]}）〕］｝〉》」』】〙〗〟’”ー‐゠–〜～…‥・：；！？"
                          "ぁぃぅぇぉっゃゅょゎゕゖァィゥェォッャュョヮヵヶㇰㇱㇲㇳㇴㇵㇶㇷㇸㇹㇺㇻㇼㇽㇾㇿ々〻")
#: may not end a line (行末禁則)
NO_LINE_END = frozenset("([{（〔［｛〈《「『【〘〖〝‘“")
_SPACES = frozenset(" \u3000")
_CONTROL = re.compile("[\x00-\x1f\x7f]")
@dataclass(frozen=True)
class Fitted:
    """A text laid out in its field: the lines and the size they are drawn at."""

    field: TextField
    lines: tuple[str, ...]
    size: float

    def baselines(self) -> list[float]:
        """y (mm from the sheet top) of each line's baseline, top-aligned or centred."""
        f, em = self.field, self.size * MM_PER_PT
        top = f.box.y + ASCENT * em
        if f.valign == "middle":
            used = (ASCENT + DESCENT) * em + (len(self.lines) - 1) * f.leading * em
            top += max(0.0, (f.box.h - used) / 2)
        return [top + i * f.leading * em for i in range(len(self.lines))]

    def x(self) -> float:
        """The x (mm) each line is anchored at."""
        b = self.field.box
        return b.x + b.w / 2 if self.field.anchor == "middle" else b.right if \
            self.field.anchor == "end" else b.x

if TYPE_CHECKING:
    from layouts.document import Document


def chain_of(field: TextField) -> tuple[str, ...]:
    """Names in IPAmj Mincho first (it covers the register), other text in IPAex Gothic."""
    return NAME_CHAIN if field.names else TEXT_CHAIN


Measure = Callable[[str], float]     # width in mm of a text at a fixed size


def _units(text: str, words: bool = False) -> list[str]:
    """Break units: a Latin word, a space, or one other character; kinsoku glued on.

    With ``words`` (names) every space-separated part is one unit, so 田中 太郎 breaks at
    the space and never inside 田中.
    """
    units: list[str] = []
    if words:
        for part in text.replace("\u3000", " ").split(" "):
            if part:
                if units:
                    units.append(" ")
                units.append(part)
        return units
    for ch in text:
        latin = ch.isascii() and not ch.isspace()
        if units and latin and units[-1][-1].isascii() and not units[-1][-1].isspace() \
                and units[-1][-1] not in NO_LINE_START:
            units[-1] += ch
        else:
            units.append(ch)
    glued: list[str] = []
    for u in units:
        if glued and (u[0] in NO_LINE_START or glued[-1][-1] in NO_LINE_END):
            glued[-1] += u
        else:
            glued.append(u)
    return glued


def wrap(text: str, width: float, measure: Measure, *, break_words: bool = False,
         words: bool = False) -> list[str]:
    """Greedy line breaking of ``text`` into lines no wider than ``width`` mm.

    Spaces at a break are dropped. A unit wider than the line is broken by character only
    with ``break_words`` (else it stays whole and the caller sees an over-wide line).
    """
    lines: list[str] = []
    cur = ""
    for unit in _units(text, words):
        if unit in _SPACES and not cur:
            continue
        trial = cur + unit
        if measure(trial) <= width + 1e-9:
            cur = trial
            continue
        if cur:
            lines.append(cur.rstrip(" \u3000"))
            cur = "" if unit in _SPACES else unit
        else:
            cur = unit
        if break_words and measure(cur) > width + 1e-9:
            piece = ""
            for ch in cur:
                if piece and measure(piece + ch) > width + 1e-9:
                    lines.append(piece)
                    piece = ch
                else:
                    piece += ch
            cur = piece
    if cur.strip(" \u3000"):
        lines.append(cur.rstrip(" \u3000"))
    return lines


def fit_with(text: str, field: TextField, measure_at: Callable[[str, float], float]) -> Fitted | None:
    """The largest size (preferred first) at which ``text`` wraps into the box, or None."""
    if not text:
        return Fitted(field, (), field.size)
    for break_words in (False, True):
        for size in field.sizes():
            room = field.lines_at(size)
            if room == 0:
                continue

            def measure(t: str, s: float = size) -> float:
                return measure_at(t, s)

            if room >= 1 and measure(text) <= field.box.w + 1e-9:
                return Fitted(field, (text,), size)
            lines = wrap(text, field.box.w, measure, break_words=break_words,
                         words=field.names)
            if len(lines) <= room and all(measure(ln) <= field.box.w + 1e-9 for ln in lines):
                return Fitted(field, tuple(lines), size)
    return None


def width_mm(fonts: FontSet, text: str, size: float, chain: tuple[str, ...]) -> float:
    """Advance width in mm of ``text`` at ``size`` pt, with the same font fallback as drawing."""
    total = 0.0
    for name, part in fonts.runs(text, chain):
        total += advance_units(name, part)
    return 0.001 * size * total * MM_PER_PT


@lru_cache(maxsize=1 << 16)
def fit(text: str, field: TextField, fonts: FontSet) -> Fitted | None:
    """:func:`fit_with` measured with the registered fonts (cached: names repeat).

    Control characters (a tab or line break from a register export) count as spaces.
    """
    text = _CONTROL.sub(" ", text)
    chain = chain_of(field)
    return fit_with(text, field, lambda t, s: width_mm(fonts, t, s, chain))


@dataclass(frozen=True)
class Misfit:
    """A field that does not fit even at its minimum size (no value: only the rule)."""

    field: str
    min_size: float
    max_lines: int

    @property
    def reason(self) -> str:
        return (f"{self.field} does not fit in {self.max_lines} line(s) "
                f"at the minimum {self.min_size:g} pt")


def misfits(texts: Iterable[tuple[TextField, str | None]], fonts: FontSet) -> list[Misfit]:
    """The fields whose text cannot be printed legibly (empty list: everything fits)."""
    out = []
    for field, text in texts:
        if text and fit(text, field, fonts) is None:
            out.append(Misfit(field.name, field.min_size, field.max_lines))
    return out


def member_texts(spec: PrintSpec, *, name: str, kana: str, alias: str | None, address: str,
                 head: bool = True) -> list[tuple[TextField, str | None]]:
    """Every variable text field a member's pages (and, for a head, the envelope) print.

    Plain strings in, so the plan stage can call it on register rows before a Household
    exists; the sheets draw the same (field, text) pairs.
    """
    m, a = spec.member, spec.address
    out: list[tuple[TextField, str | None]] = [
        (m.card_field("氏名"), name), (m.card_field("通称"), alias),
        (m.card_field("住所"), address),
        (m.form_field("フリガナ", 0), kana), (m.form_field("氏名", 1), name),
        (m.form_field("通称", 2), alias), (m.form_field("住所", 3), address),
        (a.entry_field, enclosed_entry(99, name, head)),
    ]
    if head:
        out += [(a.address_field, address), (a.name_field, f"{name} 様"),
                (a.addressee_field, f"{name} 様")]
    return out


def enclosed_entry(i: int, name: str, head: bool) -> str:
    """One line of the letter's list of enclosed members."""
    return f"{i}. {name}{'（世帯主）' if head else ''}"


def draw_field(doc: Document, field: TextField, text: str | None) -> int:
    """Draw ``text`` wrapped (then shrunk) in its field; returns the number of lines.

    The plan stage refuses what does not fit (:func:`misfits`), so a misfit here is a
    caller's error: InputError naming the field, never the text.
    """
    if not text:
        return 0
    fitted = fit(text, field, doc.fonts)
    if fitted is None:
        from core.errors import InputError
        raise InputError("text does not fit its box at the minimum size", field=field.name)
    x, chain = fitted.x(), chain_of(field)
    for line, y in zip(fitted.lines, fitted.baselines(), strict=True):
        doc.text(x, y, line, fitted.size, chain=chain, anchor=field.anchor)
    return len(fitted.lines)


def plan_misfits(residents: pl.DataFrame, fonts: FontSet, spec: PrintSpec) -> pl.DataFrame:
    """Rows (resident_code, field, reason) whose text cannot be printed legibly.

    Called by the plan stage before anything is printed. Every resident is checked as if
    they were the head (the envelope's window and letter too): the card is the tighter box,
    so this only refuses what one of a member's pages could not print. Short texts skip
    the measuring: anything that fits one full-width line at the minimum size fits.
    """
    cols = {c: pl.col(c).fill_null("") if c in residents.columns else pl.lit("")
            for c in ("family_name", "given_name", "family_name_kana", "given_name_kana",
                      "alias", "address", "address_extra")}
    frame = residents.select(
        "resident_code",
        pl.concat_str([cols["family_name"], cols["given_name"]], separator=" ").alias("name"),
        pl.concat_str([cols["family_name_kana"], cols["given_name_kana"]], separator=" ")
        .alias("kana"),
        cols["alias"].alias("alias"),
        pl.when(cols["address_extra"] != "")
        .then(pl.concat_str([cols["address"], cols["address_extra"]], separator=" "))
        .otherwise(cols["address"]).alias("address"))
    # one character is at most 1 em wide: a text no longer than every field's capacity
    # fits for sure, and only the rest (a few in 10,000) is measured
    limits = _safe_chars(spec)
    long = frame.filter(pl.any_horizontal(pl.col(c).str.len_chars() > n for c, n in limits.items()))
    rows = []
    for r in long.iter_rows(named=True):
        texts = member_texts(spec, name=r["name"], kana=r["kana"], alias=r["alias"] or None,
                             address=r["address"])
        for bad in misfits(texts, fonts):
            rows.append({"resident_code": r["resident_code"], "field": bad.field,
                         "reason": bad.reason})
    return pl.DataFrame(rows, schema={"resident_code": pl.Utf8, "field": pl.Utf8,
                                      "reason": pl.Utf8})


def _safe_chars(spec: PrintSpec) -> dict[str, int]:
    """Per source column: the most characters (1 em each) that surely fit every field it
    is printed in, at the minimum size: one line for names (they wrap only between words),
    all lines less one character per line (kinsoku) for addresses."""
    marks = {"N": "name", "K": "kana", "A": "alias", "D": "address"}
    limits: dict[str, int] = {}
    for field, text in member_texts(spec, name="N", kana="K", alias="A", address="D"):
        text = text or ""
        source = next(marks[c] for c in text if c in marks)
        per_line = int(field.box.w / (field.min_size * MM_PER_PT))
        room = per_line if field.words else field.lines_at(field.min_size) * (per_line - 1)
        room -= len(text) - 1            # "1. " before a listed name, " 様" after it
        limits[source] = min(limits.get(source, room), room)
    return limits
