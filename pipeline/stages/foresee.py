"""What a bulk or daily run would hold that only the key and the ledger can see (read-only).

The register suite cannot know that a brought number equals the number the key derives
for another resident, that the ledger already holds a number for someone else, or that an
event contradicts the ledger (docs/domain.md#register-input-limits). `mynumber check
--key` adds those holds, so that a row check accepts is never held later by the run: it
reads the same facts as the run (``read_facts`` of ``pipeline.stages.issue`` and
``pipeline.stages.apply_events``) from the ledger the run would use, opened for reading, makes
the run's own pure decisions on them (``transforms.issue_decisions.decide_issue``,
``transforms.event_decisions.decide_events``) and writes nothing there. A ledger that does not exist yet is read as an empty one (a
throwaway SQLite file), as the first bulk run finds it.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from core.errors import ConfigError
from ledger import LedgerHandle, open_ledger
from ledger.engine import resolve_url, safe_url
from ledger.migrate import head_revision
from ledger.preflight import check_key_read_only, look
from pipeline.stages.apply_events import read_facts as event_facts
from pipeline.stages.issue import read_facts as issue_facts
from pipeline.stages.register_check import RegisterCheck, with_holds
from transforms.brought_numbers import split_reasons
from transforms.event_decisions import EventParams, decide_events
from transforms.issue_decisions import IssueParams, decide_issue

if TYPE_CHECKING:
    from core.hsm import TokenKey
    from core.keys import KeyMaterial

#: the run id the decisions compare against: no run of any ledger is ever called this
FORESEE_RUN = "check --key"


def foresee_holds(checked: RegisterCheck, key: KeyMaterial | TokenKey, ledger_url: str, *,
                  kind: str, issue_day: dt.date) -> pl.DataFrame:
    """Rows the run would hold (row, field, reason) among those ``checked`` accepted."""
    check_key_read_only(ledger_url, key)  # a key the ledger would refuse: exit 2, as the run
    accepted = checked.accepted
    with _reading(ledger_url) as ledger:
        if kind == "register":
            flags = accepted.select("row", "resident_code",
                                    pl.col("my_number").is_not_null().alias("has_my_number"))
            brought = accepted.filter(pl.col("my_number").is_not_null()).select("resident_code", "my_number")
            facts = issue_facts(ledger, flags, brought, key.key_id)
            return decide_issue(flags, brought, facts, IssueParams(FORESEE_RUN, issue_day, key.derivation_key)).rejected
        facts = event_facts(ledger, accepted, key.key_id)
        classified = decide_events(accepted, facts, EventParams(FORESEE_RUN, key.derivation_key))
        return split_reasons(classified.filter(pl.col("action") == "quarantine").select("row", "reason"))


def check_with_key(checked: RegisterCheck, key: KeyMaterial | TokenKey, ledger_url: str, *,
                   kind: str, issue_day: dt.date) -> RegisterCheck:
    """``checked`` plus the holds the run would add; the report names the key and ledger."""
    holds = foresee_holds(checked, key, ledger_url, kind=kind, issue_day=issue_day)
    return with_holds(checked, holds, {"key_id": key.key_id, "ledger": safe_url(resolve_url(ledger_url)),
                                       "issue_day": issue_day.isoformat()})


@contextmanager
def _reading(url: str) -> Iterator[LedgerHandle]:
    """The ledger at ``url`` for reading, or an empty one when it does not exist yet."""
    state = look(url, None)
    if not state.exists:
        with tempfile.TemporaryDirectory(prefix="mynumber-check-") as tmp:
            empty = open_ledger(f"sqlite:///{Path(tmp) / 'empty.db'}", operator="check",
                                create=True)
            try:
                yield empty
            finally:
                empty.close()
        return
    if state.revision != head_revision():
        raise ConfigError(f"the ledger's schema ({state.revision}) is older than this program's "
                          f"({head_revision()}) and check --key only reads: `mynumber ledger init` "
                          "upgrades it (the next run would too)")
    ledger = open_ledger(url, operator="check")  # at head: opening writes nothing
    try:
        yield ledger
    finally:
        ledger.close()
