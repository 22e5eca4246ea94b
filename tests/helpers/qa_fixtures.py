"""Synthetic batches as extracted text: a manifest frame and page strings per the contract.

They let the checks be tested without a renderer: each page is the text the page contract
promises (docs/architecture.md, "Page contract"). Numbers here are made up test values.
"""

from __future__ import annotations

import polars as pl

HOUSEHOLDS = [
    # household_id, postal_code, address, members (family, given, resident_code, my_number)
    ("H001", "1760001", "練馬区練馬一丁目1-1", [("練馬", "太郎", "10000000011", "123456789018"),
                                               ("練馬", "花子", "10000000022", "023456789013")]),
    ("H002", "1760002", "練馬区桜台二丁目2-2 ハイツ101", [("小林", "一郎", "10000000033", "983205673214")]),
    ("H003", "1790085", "練馬区早宮三丁目3-3", [("林", "一", "10000000044", "111122223333"),
                                               ("林", "二三", "10000000055", "444455556665"),
                                               ("Smith", "John Paul", "10000000066", "777788889997")]),
]
BATCH = "B00001"


def app_id(code: str) -> str:
    return ("9" + code * 3)[:23]


def mail_number(seq: int) -> str:
    return f"3606000{seq:03d}0"


def fmt_number(n: str) -> str:
    return f"{n[:4]} {n[4:8]} {n[8:]}"


def fmt_app(a: str) -> str:
    return " ".join(a[i:i + 4] for i in range(0, 23, 4))


def build() -> tuple[pl.DataFrame, list[str], pl.DataFrame, pl.DataFrame]:
    """(manifest, page texts, plan rows, ledger active numbers)."""
    rows, pages, plan, active = [], [], [], []
    for seq, (hh, postal, address, members) in enumerate(HOUSEHOLDS, 1):
        n = 1 + len(members)
        first = len(pages) + 1
        head = f"{members[0][0]} {members[0][1]}"
        def footer(k: int, seq: int = seq, hh: str = hh, n: int = n) -> str:
            return f"BATCH {BATCH} ENV {seq:06d} HH {hh} P {k}/{n}"
        mail = mail_number(seq)
        pages.append("\n".join([
            f"〒{postal[:3]}-{postal[3:]}", address, f"{head} 様", "転送不要 簡易書留",
            f"{mail[:3]}-{mail[3:5]}-{mail[5:10]}-{mail[10:]}", "練馬区役所 〒176-8501",
            "通知カードをお送りします。", *[f"・{f} {g}" for f, g, _, _ in members], footer(1)]))
        for k, (f, g, code, number) in enumerate(members, 2):
            pages.append("\n".join([
                "通知カード", f"{f} {g}", address, fmt_number(number), "個人番号カード交付申請書",
                f"{f} {g}", address, f"申請書ID {fmt_app(app_id(code))}", footer(k)]))
            plan.append({"resident_code": code, "envelope_seq": seq, "household_id": hh,
                         "member_seq": k - 1, "is_manual": False, "application_id": app_id(code),
                         "registered_mail_number": mail, "batch_id": BATCH, "address": address,
                         "address_extra": None, "envelope_address": address,
                         "envelope_address_extra": None})
            active.append({"resident_code": code, "my_number": number, "generation": 0})
        rows.append({"batch_id": BATCH, "envelope_seq": seq, "household_id": hh,
                     "postal_code": postal, "registered_mail_number": mail,
                     "first_page": first, "last_page": len(pages), "members": len(members),
                     "manual_members": 0, "resident_codes": [m[2] for m in members],
                     "member_names": [f"{m[0]} {m[1]}" for m in members],
                     "application_ids": [app_id(m[2]) for m in members],
                     "my_numbers_masked": ["********" + m[3][-4:] for m in members],
                     "head_name": head, "manual_resident_codes": []})
    return pl.DataFrame(rows, schema_overrides={"manual_resident_codes": pl.List(pl.Utf8)}), pages, pl.DataFrame(plan), pl.DataFrame(active)


def to_csv_frame(manifest: pl.DataFrame) -> pl.DataFrame:
    """The manifest as its CSV reads back (lists joined with ';', everything text)."""
    return manifest.with_columns(
        [pl.col(c).list.join(";") for c in ("resident_codes", "member_names", "application_ids",
                                            "my_numbers_masked", "manual_resident_codes")]
    ).with_columns(pl.all().cast(pl.Utf8))


class FrameLedger:
    """A tiny real object with the Ledger's active_numbers method, over a polars frame."""

    def __init__(self, active: pl.DataFrame) -> None:
        self.active = active

    def active_numbers(self, resident_codes: pl.Series | None = None) -> pl.DataFrame:
        if resident_codes is None:
            return self.active
        return self.active.filter(pl.col("resident_code").is_in(resident_codes.implode()))
