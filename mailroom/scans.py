"""Scans of envelopes on their way: checked numbers in, one notice transition out."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

import polars as pl

from core.errors import InputError, LedgerError, ValidationError
from ledger import notices
from ledger.notices import Transition
from mailroom.dates import japan_midnight
from pipeline.options import RunOptions
from pipeline.stages.bookkeeping import run_ledger
from transforms.identifiers import registered_mail

#: why an envelope came back (docs/domain.md#registered-mail-lifecycle); free text is refused
RETURN_REASONS = ("宛所不明", "あて所に尋ねあたりません", "受取拒否", "受取拒絶", "保管期間経過", "転居先不明",
                  "その他")


#: identity documents shown at the counter (番号法施行規則 art. 1): the kind only, never its number
ID_DOCUMENTS = {
    "mynumber_card": "マイナンバーカード", "drivers_license": "運転免許証",
    "driving_history": "運転経歴証明書", "passport": "旅券",
    "disability_handbook": "身体障害者手帳", "mental_health_handbook": "精神障害者保健福祉手帳",
    "rehabilitation_handbook": "療育手帳", "residence_card": "在留カード",
    "special_permanent_resident": "特別永住者証明書",
    "two_documents": "二点確認 (健康保険証等)", "proxy_with_letter": "代理人 (委任状と代理人の本人確認書類)",
}


def parse_mail_numbers(values: Iterable[str]) -> list[str]:
    """Registered-mail numbers as typed or scanned (hyphens and spaces allowed), checked.

    The message names the position of a bad entry, not its value.
    """
    out = []
    for i, value in enumerate(values, 1):
        text = value.strip()
        if not text:
            continue
        try:
            out.append(registered_mail.validate(text))
        except ValidationError as exc:
            raise InputError(f"registered-mail number {i}: {exc}", row=i,
                             field="registered_mail_number") from None
    if not out:
        raise InputError("no registered-mail number given", field="registered_mail_number")
    return list(dict.fromkeys(out))


def summary(action: str, t: Transition, numbers: Sequence[str]) -> dict[str, Any]:
    return {"action": action, "envelopes": len(numbers), "notices_changed": t.changed,
            "notices_already": t.already, "notices_refused": t.refused,
            "envelopes_unknown": t.unknown}


def made_by_hand(opts: RunOptions, numbers: Sequence[str]) -> dict[str, Any]:
    """Hand-made envelopes checked and sealed: their planned notices count as printed."""
    with run_ledger(opts) as ledger:
        current = notices.by_mail_numbers(ledger, numbers)
        if current.filter(~pl.col("is_manual")).height:
            raise LedgerError("only hand-made envelopes (manual manifest) are marked made; "
                              "printed batches become printed by passing QA")
        return summary("made", notices.transition(ledger, numbers, "printed", "made by hand and checked"),
                       numbers)


def delivered(opts: RunOptions, numbers: Sequence[str]) -> dict[str, Any]:
    """Delivered (the post office's tracking or the signed receipt)."""
    with run_ledger(opts) as ledger:
        return summary("delivered", notices.transition(ledger,
            numbers, "delivered", "delivered (tracking)"), numbers)


def mailed_before(opts: RunOptions, before: dt.date) -> list[str]:
    """Envelopes mailed before a date that never came back (the return window has passed)."""
    cutoff = japan_midnight(before)
    with run_ledger(opts) as ledger:
        mailed = notices.all_notices(ledger, ["mailed"])
    return mailed.filter(pl.col("updated_at") < cutoff).get_column(
        "registered_mail_number").unique().sort().to_list()


def returned(opts: RunOptions, numbers: Sequence[str], reason: str, location: str) -> dict[str, Any]:
    """Came back to the office: recorded with its reason and shelved (held) at ``location``."""
    if reason not in RETURN_REASONS:
        raise InputError(f"--reason must be one of {', '.join(RETURN_REASONS)}", field="reason")
    if not location.strip() or len(location) > 64:
        raise InputError("--location names the shelf (1-64 characters)", field="location")
    with run_ledger(opts) as ledger:
        return summary("returned", notices.transition(ledger,
            numbers, "held", f"returned: {reason}; held at {location.strip()}", via="returned"),
            numbers)


def collect(opts: RunOptions, number: str, id_document: str) -> dict[str, Any]:
    """Handed over at the counter after identity was checked (the kind of document only)."""
    if id_document not in ID_DOCUMENTS:
        raise InputError(f"--id-document must be one of {', '.join(ID_DOCUMENTS)}",
                         field="id_document")
    with run_ledger(opts) as ledger:
        return summary("collect", notices.transition(ledger,
            [number], "handed_over", f"handed over at the counter; identity: {id_document}"),
            [number])
