"""Frozen records the sheets draw, built from print-plan rows, and their printed forms.

Drawing functions take these, never polars rows, so a sheet is a function of
(canvas, spec, record). Formatting of identifiers goes through transforms.identifiers, eras
through transforms.eras (one definition each).
"""

from __future__ import annotations

import csv
import datetime as dt
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import polars as pl

from transforms.eras import ERAS
from transforms.identifiers import application_id as _application_id
from transforms.identifiers import my_number as _my_number
from transforms.identifiers import registered_mail as _registered_mail

#: encoding that is exactly ASCII + JIS X 0201 Roman + JIS X 0208 + JIS X 0212 (RFC 2237).
#: cp932 adds NEC/IBM extensions (髙 passes) and euc-jis-2004 adds JIS X 0213: both would
#: hide characters the application form must print with a substitute.
JIS_0208_0212 = "iso2022_jp_1"
SUBSTITUTE_MARK = "〓"      # geta: the traditional placeholder for an unprintable kanji
_SUBSTITUTES_FILE = Path(__file__).with_name("substitute_characters.csv")

SEX_LABELS = {1: "男", 2: "女"}


def format_my_number(number: str) -> str:
    """``NNNN NNNN NNNN`` (the card's form)."""
    return _my_number.format(number)


def mask_my_number(number: str) -> str:
    """``********9012``: the only form of a My Number outside the printed card."""
    return _my_number.mask(number)


def format_registered_mail(number: str) -> str:
    """``XXX-XX-XXXXX-X`` as on the 簡易書留 label."""
    return _registered_mail.format(number)


def format_application_id(app_id: str) -> str:
    """23 digits in groups of four (``1234 5678 9012 3456 7890 123``) for reading aloud."""
    return _application_id.format(app_id)


def format_postcode(postal_code: str) -> str:
    return f"〒{postal_code[:3]}-{postal_code[3:]}"


def wareki(date: dt.date) -> str:
    """和暦: 平成元年1月8日 (元年 for year 1)."""
    for era in reversed(ERAS):      # transforms.eras lists the oldest first
        if date >= era.start:
            year = date.year - era.start.year + 1
            return f"{era.kanji}{'元' if year == 1 else year}年{date.month}月{date.day}日"
    return f"{date.year}年{date.month}月{date.day}日"


def seireki(date: dt.date) -> str:
    return f"{date.year}年{date.month}月{date.day}日"


def both_calendars(date: dt.date) -> str:
    """``昭和60年4月1日（1985年4月1日）``: 和暦 first, as municipal forms do."""
    return f"{wareki(date)}（{seireki(date)}）"


@lru_cache(maxsize=1)
def _substitute_table() -> dict[str, str]:
    with _SUBSTITUTES_FILE.open(encoding="utf-8") as fh:
        rows = csv.DictReader(line for line in fh if not line.startswith("#"))
        return {r["character"]: r["substitute"] for r in rows}


def in_jis_0208_0212(ch: str) -> bool:
    try:
        ch.encode(JIS_0208_0212)
    except UnicodeEncodeError:
        return False
    return True


def substitute_name(name: str) -> tuple[str, list[tuple[str, str]]]:
    """The name with 代替文字 for characters outside JIS X 0208/0212, and the pairs used.

    Order: the project's table, NFKC if that lands inside the set, accents stripped
    (Nguyễn → Nguyen), else 〓.
    """
    table = _substitute_table()
    out, pairs = [], []
    for ch in name:
        if in_jis_0208_0212(ch):
            out.append(ch)
            continue
        sub = table.get(ch)
        if sub is None:
            nfkc = unicodedata.normalize("NFKC", ch)
            stripped = "".join(c for c in unicodedata.normalize("NFKD", ch)
                               if not unicodedata.combining(c))
            sub = next((c for c in (nfkc, stripped) if c and all(map(in_jis_0208_0212, c))),
                       SUBSTITUTE_MARK)
        out.append(sub)
        pairs.append((ch, sub))
    return "".join(out), pairs


@dataclass(frozen=True)
class Member:
    """One member's printed data (the My Number only lives here and on paper)."""

    resident_code: str
    member_seq: int
    is_head: bool
    family_name: str
    given_name: str
    family_name_kana: str
    given_name_kana: str
    alias: str | None
    date_of_birth: dt.date
    sex_code: int
    application_id: str | None          # null for a member sent separately
    my_number: str | None
    is_manual: bool
    postal_code: str = ""               # the member's own registered address (the card's)
    address: str = ""
    address_extra: str | None = None
    manual_reason: tuple[str, ...] = ()

    def __repr__(self) -> str:  # never leak the number or name into logs
        return f"Member(member_seq={self.member_seq}, is_manual={self.is_manual})"

    @property
    def name(self) -> str:
        return f"{self.family_name} {self.given_name}"

    @property
    def foreign_resident(self) -> bool:
        """A foreign resident: the register has no nationality column, so a 通称 (only a
        foreign resident can register one) or a name in Latin letters stands in for it
        (docs/domain.md#notification-card-2015)."""
        return bool(self.alias) or any("A" <= c.upper() <= "Z" for c in self.family_name)

    @property
    def kana(self) -> str:
        return f"{self.family_name_kana} {self.given_name_kana}"

    @property
    def full_address(self) -> str:
        return f"{self.address} {self.address_extra}" if self.address_extra else self.address


@dataclass(frozen=True)
class Household:
    """One envelope: address, registered-mail number and members in print order."""

    batch_id: str
    envelope_seq: int
    household_id: str
    postal_code: str                    # the envelope's (the head's) address
    address: str
    address_extra: str | None
    registered_mail_number: str | None  # null only for an envelope prepared by hand
    issue_date: dt.date
    members: tuple[Member, ...]

    def __repr__(self) -> str:
        return f"Household(envelope_seq={self.envelope_seq}, members={len(self.members)})"

    @property
    def printed(self) -> tuple[Member, ...]:
        return tuple(m for m in self.members if not m.is_manual)

    @property
    def manual(self) -> tuple[Member, ...]:
        return tuple(m for m in self.members if m.is_manual)

    @property
    def head(self) -> Member:
        return next((m for m in self.members if m.is_head), self.members[0])

    @property
    def full_address(self) -> str:
        return f"{self.address} {self.address_extra}" if self.address_extra else self.address

    @property
    def pages(self) -> int:
        return 1 + len(self.printed)


def households_from_plan(plan_rows: pl.DataFrame, numbers: pl.DataFrame) -> list[Household]:
    """Group plan rows (one per member) into envelopes in envelope order, with numbers.

    The envelope address is ``envelope_*`` when the plan has it (transforms.households
    copies the head's), else the head's own; each member's card shows the member's own
    address. The join is m:1 on resident_code; a printed member without a My Number or an
    application id is the caller's error (InputError naming the field, never a value).
    """
    from core.errors import InputError

    numbers = numbers.select("resident_code", "my_number").unique("resident_code")
    rows = (plan_rows.join(numbers, on="resident_code", how="left", validate="m:1")
            .sort("envelope_seq", "member_seq"))
    printed = ~rows["is_manual"].fill_null(False)
    for column in ("my_number", "application_id", "registered_mail_number", "issue_date"):
        if (rows[column].is_null() & printed).any():
            raise InputError("a printed member of the print plan has no value", field=column)
    has_env = all(c in rows.columns for c in ("envelope_postal_code", "envelope_address"))
    out: list[Household] = []
    cur_key: object = None
    members: list[Member] = []
    first: dict[str, Any] | None = None
    for r in rows.iter_rows(named=True):
        if r["envelope_seq"] != cur_key:
            if first is not None:
                out.append(_household(first, members, has_env))
            cur_key, members, first = r["envelope_seq"], [], r
        members.append(Member(
            resident_code=r["resident_code"], member_seq=int(r["member_seq"]),
            is_head=bool(r["is_head"]), family_name=r["family_name"] or "",
            given_name=r["given_name"] or "", family_name_kana=r["family_name_kana"] or "",
            given_name_kana=r["given_name_kana"] or "", alias=r.get("alias") or None,
            date_of_birth=r["date_of_birth"], sex_code=int(r["sex_code"] or 0),
            application_id=r["application_id"], my_number=r["my_number"],
            is_manual=bool(r["is_manual"]), postal_code=r["postal_code"],
            address=r["address"] or "", address_extra=r.get("address_extra") or None))
    if first is not None:
        out.append(_household(first, members, has_env))
    return out


def _household(r: dict[str, Any], members: list[Member], has_env: bool) -> Household:
    prefix = "envelope_" if has_env else ""
    return Household(
        batch_id=r["batch_id"], envelope_seq=int(r["envelope_seq"]),
        household_id=r["household_id"], postal_code=r[f"{prefix}postal_code"],
        address=r[f"{prefix}address"], address_extra=r.get(f"{prefix}address_extra") or None,
        registered_mail_number=r["registered_mail_number"], issue_date=r["issue_date"],
        members=tuple(members))
