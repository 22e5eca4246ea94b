"""The Ledger: every My Number ever issued, who holds it, and who did what, in one database.

Writes are whole transactions: a commit of 740,000 numbers is staged in bulk, checked with
set-based SQL and inserted in one statement, so it lands entirely or not at all, and
re-running it adds nothing. Messages and results carry counts, never a number or a code.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import string
import uuid
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from core.errors import InvalidFormat, LedgerError, NotIssued

from . import bulk, events, mailings, migrate, notices
from . import keys as ledger_keys_
from .chain import GENESIS, entry_hash
from .engine import make_engine, read_transaction, resolve_url, safe_url, write_transaction
from .frames import check_number_frame
from .numbers import CommitResult, ReissueResult, commit_frame
from .schema import ISSUE_REASONS, REASON_PATTERN, RUN_STATUSES, audit_log, issued_numbers, runs

I = issued_numbers  # noqa: E741 - short alias keeps the SQL readable
NUMBER_SCHEMA = {"resident_code": pl.Utf8, "my_number": pl.Utf8, "generation": pl.Int64}
#: how many generations reissue tries before giving up (each skip is a collision: ~never)
MAX_REISSUE_ATTEMPTS = 64


def utcnow() -> datetime:
    return datetime.now(UTC)


class Ledger:
    """The municipality's ledger of issued numbers (SQLite file or PostgreSQL)."""

    def __init__(self, url: str, *, operator: str = "unknown") -> None:
        self.url = resolve_url(url)
        self.engine = make_engine(self.url)
        self.operator = operator or "unknown"  # the CLI passes --operator or the OS user
        self._schema_checked = False

    def __repr__(self) -> str:
        return f"Ledger({safe_url(self.url)!r}, operator={self.operator!r})"

    def close(self) -> None:
        """Release pooled connections (a Ledger can be used again afterwards)."""
        self.engine.dispose()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- schema -------------------------------------------------------------------------
    def init(self) -> str:
        """Create or upgrade the schema (alembic, to head); returns the revision."""
        revision = migrate.upgrade(self.engine)
        self._schema_checked = True
        return revision

    def check_schema(self) -> str | None:
        """The database's revision; SchemaTooNew when a newer program wrote it."""
        with self.engine.connect() as conn:
            revision = migrate.current_revision(conn)
        migrate.check_revision(revision, self.engine)
        return revision

    def init_if_needed(self) -> None:
        """Create or upgrade the schema when it is missing or older (a too-new one is refused)."""
        self._ready()

    def _ready(self) -> None:
        """Refuse a too-new schema; create or upgrade a missing or older one on first use."""
        if not self._schema_checked:
            if self.check_schema() != migrate.head_revision():
                self.init()
            self._schema_checked = True

    # --- audit --------------------------------------------------------------------------
    def audit(self, action: str, subject: str, why: str, run_id: str | None = None) -> None:
        """Append one entry to the audit log (who: --operator or the OS user)."""
        self._ready()
        with write_transaction(self.engine) as conn:
            self._audit(conn, action, subject, why, run_id)

    def _audit(self, conn: Connection, action: str, subject: str, why: str,
               run_id: str | None) -> None:
        """Append one entry, chained to the last one (ledger.chain) in the same transaction.

        Writers are serialised (SQLite: BEGIN IMMEDIATE; PostgreSQL: a transaction-scoped
        advisory lock per schema, which needs no privilege beyond INSERT: ledger.roles), so
        two entries never claim the same predecessor."""
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql("SELECT pg_advisory_xact_lock(1836674932, "
                                 "hashtext(current_schema()))")
        prev = conn.execute(sa.select(audit_log.c.entry_hash)
                            .order_by(audit_log.c.audit_id.desc()).limit(1)).scalar()
        at, why = utcnow(), why or ""
        prev = prev or GENESIS
        conn.execute(sa.insert(audit_log).values(
            at=at, who=self.operator, action=action, subject=subject, run_id=run_id, why=why,
            prev_hash=prev,
            entry_hash=entry_hash(prev, at, self.operator, action, subject, run_id, why)))

    # --- keys (ledger.keys) ---------------------------------------------------------------
    def check_key(self, key: ledger_keys_.LedgerKey) -> None:
        """Refuse (KeyMismatch, exit 2) a key this ledger would not issue under; writes nothing
        except, on a new database, its schema."""
        self._ready()
        ledger_keys_.check_key(self, key)

    def bind_key(self, key: ledger_keys_.LedgerKey, run_id: str | None = None) -> None:
        """Check the key and register it when the ledger has none yet (first issuing run)."""
        self._ready()
        ledger_keys_.bind_key(self, key, run_id)

    def rotate_key(self, current: ledger_keys_.LedgerKey, new: ledger_keys_.LedgerKey,
                   why: str) -> None:
        """Make ``new`` the key that derives numbers from now on (audited)."""
        self._ready()
        ledger_keys_.rotate(self, current, new, why)

    def known_keys(self) -> list[dict[str, Any]]:
        self._ready()
        return ledger_keys_.known_keys(self)

    # --- runs ---------------------------------------------------------------------------
    def start_run(self, kind: str, input_sha256: str, params: dict[str, Any]) -> str:
        """Record the start of a run; params must hold no personal data (they are shown)."""
        self._ready()
        with write_transaction(self.engine) as conn:
            return self._start_run(conn, kind, input_sha256, params)

    def _start_run(self, conn: Connection, kind: str, input_sha256: str,
                   params: dict[str, Any]) -> str:
        now = utcnow()
        # a letters-only suffix: a run id never looks like a resident code or a number
        suffix = "".join(secrets.choice(string.ascii_lowercase) for _ in range(10))
        run_id = f"run-{now:%Y%m%dT%H%M%S}-{suffix}"
        conn.execute(sa.insert(runs).values(
            run_id=run_id, kind=kind, input_sha256=input_sha256,
            params=json.dumps(params, sort_keys=True, default=str), status="running",
            operator=self.operator, started_at=now))
        self._audit(conn, "start_run", f"run {run_id} kind {kind}", "", run_id)
        return run_id

    def find_run(self, kind: str, input_sha256: str) -> dict[str, Any] | None:
        """The latest run of this kind over this input (to resume or skip), or None."""
        self._ready()
        with read_transaction(self.engine) as conn:
            row = conn.execute(
                sa.select(runs).where(runs.c.kind == kind, runs.c.input_sha256 == input_sha256)
                .order_by(runs.c.started_at.desc(), runs.c.run_id.desc()).limit(1)
            ).mappings().first()
        if row is None:
            return None
        out = dict(row)
        for col in ("started_at", "finished_at"):  # SQLite hands back naive UTC
            if out[col] is not None and out[col].tzinfo is None:
                out[col] = out[col].replace(tzinfo=UTC)
        out["params"] = json.loads(out["params"] or "{}")
        out["counts"] = json.loads(out["counts"]) if out["counts"] else None
        return out

    @staticmethod
    def _require_run(conn: Connection, run_id: str) -> None:
        if conn.execute(sa.select(runs.c.run_id).where(runs.c.run_id == run_id)).first() is None:
            raise LedgerError(f"no run {run_id} in the ledger (start_run first)")

    def finish_run(self, run_id: str, status: str, counts: dict[str, Any]) -> None:
        """Close a run with its status and counts."""
        if status not in RUN_STATUSES:
            raise LedgerError(f"run status must be one of {', '.join(RUN_STATUSES)}")
        self._ready()
        with write_transaction(self.engine) as conn:
            done = conn.execute(
                sa.update(runs).where(runs.c.run_id == run_id).values(
                    status=status, counts=json.dumps(counts, sort_keys=True, default=str),
                    finished_at=utcnow())
            ).rowcount
            if done != 1:
                raise LedgerError(f"no run {run_id} in the ledger")
            self._audit(conn, "finish_run", f"run {run_id} {status}", "", run_id)

    # --- numbers ------------------------------------------------------------------------
    def commit_numbers(self, run_id: str, frame: pl.DataFrame, key_id: str | None,
                       reason: str = "first_issue") -> CommitResult:
        """Write derived numbers in one transaction; idempotent (a re-run adds nothing).

        AlreadyIssued (with counts, nothing written) when a number belongs to another
        resident or a resident already holds a different active number.
        """
        numbers = check_number_frame(frame, "commit_numbers", with_generation=True)
        return self._commit(run_id, numbers, key_id, reason)

    def record_existing_numbers(self, run_id: str, frame: pl.DataFrame,
                                reason: str = "move_in") -> CommitResult:
        """Record numbers residents already hold (move-ins keep their number for life)."""
        numbers = check_number_frame(frame, "record_existing_numbers", with_generation=False)
        return self._commit(run_id, numbers, None, reason)

    def _commit(self, run_id: str, numbers: pl.DataFrame, key_id: str | None,
                reason: str) -> CommitResult:
        if not re.match(REASON_PATTERN, reason or ""):
            raise LedgerError("reason must be a short lower-case code such as "
                              f"{', '.join(ISSUE_REASONS)} or an event name")
        self._ready()
        return commit_frame(self, run_id, numbers, key_id, reason)

    def active_numbers(self, resident_codes: pl.Series | Sequence[str] | None = None
                       ) -> pl.DataFrame:
        """Active numbers, for all residents or the given ones: [resident_code, my_number, generation]."""
        self._ready()
        query = sa.select(I.c.resident_code, I.c.my_number, I.c.generation).where(
            I.c.status == "active")
        with read_transaction(self.engine) as conn:
            if resident_codes is None:
                return bulk.fetch_frame(conn, query.order_by(I.c.resident_code), NUMBER_SCHEMA)
            codes = _as_series(resident_codes, "resident_code").unique()
            stage = bulk.stage_table("ledger_stage_codes", {"resident_code": sa.String(11)})
            bulk.create_and_load(conn, stage, codes.to_frame())
            out = bulk.fetch_frame(conn, query.join(
                stage, stage.c.resident_code == I.c.resident_code).order_by(I.c.resident_code),
                NUMBER_SCHEMA)
            bulk.drop(conn, stage)
            return out

    def number_owners(self, my_numbers: pl.Series | Sequence[str]) -> pl.DataFrame:
        """Who holds (or held) each given number: [my_number, resident_code, status]."""
        self._ready()
        numbers = _as_series(my_numbers, "my_number").unique()
        stage = bulk.stage_table("ledger_stage_owned", {"my_number": sa.String(12)})
        with read_transaction(self.engine) as conn:
            bulk.create_and_load(conn, stage, numbers.to_frame())
            out = bulk.fetch_frame(
                conn,
                sa.select(I.c.my_number, I.c.resident_code, I.c.status)
                .join(stage, stage.c.my_number == I.c.my_number).order_by(I.c.my_number),
                {"my_number": pl.Utf8, "resident_code": pl.Utf8, "status": pl.Utf8})
            bulk.drop(conn, stage)
            return out

    def reissue(self, resident_code: str, reason: str, key: Any, run_id: str | None = None, *,
                derive: Callable[[pl.Series, bytes, int], pl.Series] | None = None
                ) -> ReissueResult:
        """Change a resident's number: revoke the active one, issue the next free generation.

        The new number comes from the first generation after the highest one the resident
        ever had whose derived number is in no row of the ledger (active or revoked), so
        no number is ever given twice. Both steps are one transaction and both are audited.
        ``derive`` defaults to transforms.numbering.derive_my_numbers.
        """
        if derive is None:
            from transforms.numbering import derive_my_numbers

            derive = derive_my_numbers
        if not reason or not reason.strip():
            raise LedgerError("reissue needs a reason (it goes to the audit log)")
        code = str(resident_code)
        if not re.fullmatch(r"[0-9]{11}", code):
            raise InvalidFormat("reissue: the resident code is not 11 ASCII digits")
        self._ready()
        with write_transaction(self.engine, "issued_numbers") as conn:
            if hasattr(key, "check_value"):  # a loaded key (tests may pass a bare stand-in)
                ledger_keys_.bind(self, conn, key, None)
            active = conn.execute(sa.select(I.c.number_id, I.c.my_number).where(
                I.c.resident_code == code, I.c.status == "active")).first()
            if active is None:
                raise NotIssued("reissue refused: the resident has no active number in the ledger")
            last = conn.execute(sa.select(sa.func.max(I.c.generation)).where(
                I.c.resident_code == code)).scalar_one()
            if run_id is None:
                run_id = self._start_run(conn, "reissue", _sha256(uuid.uuid4().hex), {})
            generation, new = self._free_generation(conn, code, int(last) + 1, key, derive, run_id,
                                                    active.number_id)
            now = utcnow()
            conn.execute(sa.update(I).where(I.c.number_id == active.number_id).values(
                status="revoked", revoked_at=now, revoked_run_id=run_id))
            # audit subjects point at ledger rows, so the audit log holds no personal data
            self._audit(conn, "revoke_number", f"number row {active.number_id} revoked",
                        reason, run_id)
            # an unmailed card of the revoked number must never be mailed: void it
            notices.void_revoked(self, conn, active.number_id, run_id)
            new_pk = conn.execute(sa.insert(I).values(
                my_number=new, resident_code=code, generation=generation, status="active",
                reason="number_change", run_id=run_id, key_id=key.key_id, issued_at=now)
            ).inserted_primary_key
            if new_pk is None:  # pragma: no cover - a single-row INSERT always reports its key
                raise LedgerError("reissue refused: the database reported no id for the new row")
            new_id = new_pk[0]
            self._audit(conn, "issue_number",
                        f"number row {new_id} issued, generation {generation}, replacing row "
                        f"{active.number_id}", f"{reason}; key {key.key_id}", run_id)
        return ReissueResult(generation=generation, last4_old=active.my_number[-4:],
                             last4_new=new[-4:])

    def _free_generation(self, conn: Connection, code: str, start: int, key: Any,
                         derive: Callable[[pl.Series, bytes, int], pl.Series],
                         run_id: str, number_id: int) -> tuple[int, str]:
        """The first generation from ``start`` whose number no ledger row holds."""
        for generation in range(start, start + MAX_REISSUE_ATTEMPTS):
            number = str(derive(pl.Series([code], dtype=pl.Utf8),
                                getattr(key, "derivation_key", None) or key.secret, generation)[0])
            taken = conn.execute(sa.select(sa.literal(1)).where(I.c.my_number == number)).first()
            if taken is None:
                return generation, number
            self._audit(conn, "skip_generation",
                        f"generation {generation} for the holder of number row {number_id}: "
                        "its number is already in the ledger",
                        "numbers are never reused", run_id)
        raise LedgerError(f"reissue found no free number in {MAX_REISSUE_ATTEMPTS} generations")

    # --- events and mailings (set-based, in ledger.events / ledger.mailings) --------------
    def record_events(self, run_id: str, frame: pl.DataFrame) -> pl.DataFrame:
        """Record register events; returns the frame's rows not seen before (re-runs add nothing)."""
        self._ready()
        return events.record_events(self, run_id, frame)

    def record_mailings(self, run_id: str, frame: pl.DataFrame) -> CommitResult:
        """Record planned envelopes (idempotent on batch_id + envelope_seq)."""
        self._ready()
        return mailings.record_mailings(self, run_id, frame)

    def set_mailing_status(self, status: str, *, registered_mail_numbers: Any = None,
                           batch_id: str | None = None, batch_run_id: str | None = None,
                           run_id: str | None = None, why: str = "") -> int:
        """Move envelopes (by tracking numbers, or a batch: that of ``batch_run_id`` or the
        newest run's batch of that name) to a status; returns rows changed."""
        self._ready()
        return mailings.set_mailing_status(
            self, status, registered_mail_numbers=registered_mail_numbers, batch_id=batch_id,
            batch_run_id=batch_run_id, run_id=run_id, why=why)

    def allocate_registered_mail_numbers(self, n: int, run_id: str | None = None, *,
                                         configured_range: str | None = None) -> list[str]:
        """n fresh 11-digit 簡易書留 numbers from the configured range, never handed out before."""
        self._ready()
        return mailings.allocate(self, n, run_id=run_id, configured_range=configured_range)

    def add_mail_number_range(self, first_body: int | str, last_body: int | str) -> int:
        """Register a sender-printed range (10-digit bodies, inclusive) from the post office."""
        self._ready()
        return mailings.add_range(self, first_body, last_body)

    # --- notices (ledger.notices): one per number and envelope, followed to the holder ------
    def save_resident_records(self, run_id: str, records: pl.DataFrame) -> int:
        """Keep residents' printable records (JSON), so a later run can print their notice."""
        self._ready()
        return notices.save_records(self, run_id, records)

    def pending_notices(self, *, with_records: bool = True) -> pl.DataFrame:
        """Active numbers without a live notice: [number_id, resident_code, record]."""
        self._ready()
        return notices.pending(self, with_records=with_records)

    def resident_records(self, resident_codes: Sequence[str] | pl.Series) -> pl.DataFrame:
        """The kept printable records of these residents: [resident_code, record]."""
        self._ready()
        return notices.records_of(self, resident_codes)

    def planning_lock(self) -> AbstractContextManager[None]:
        """Held while a run plans notices: two runs never plan the same pending number."""
        self._ready()
        return notices.planning_lock(self)

    def void_unprinted_notices(self, run_id: str) -> int:
        """Void planned notices of ended runs (they go back to planning)."""
        self._ready()
        return notices.void_unprinted(self, run_id)

    def record_notices(self, run_id: str, frame: pl.DataFrame) -> int:
        """Record this run's planned notices (idempotent on resume)."""
        self._ready()
        return notices.record_notices(self, run_id, frame)

    def mark_batch_notices(self, run_id: str, batch_id: str, status: str, why: str,
                           void_reason: str | None = None) -> int:
        """A batch passed QA (``printed``) or failed it (``voided``)."""
        self._ready()
        return notices.mark_batch(self, run_id, batch_id, status, why, void_reason=void_reason)

    def notice_transition(self, registered_mail_numbers: Sequence[str], status: str, why: str, *,
                          run_id: str | None = None, void_reason: str | None = None,
                          via: str | None = None) -> notices.Transition:
        """Move the notices of these envelopes to a status (idempotent; illegal ones refused)."""
        self._ready()
        return notices.transition(self, registered_mail_numbers, status, why, run_id=run_id,
                                  void_reason=void_reason, via=via)

    def notice_counts(self) -> dict[str, Any]:
        """Notices by status and the funnel (counts only)."""
        self._ready()
        return notices.counts(self)

    # --- reporting ----------------------------------------------------------------------
    def stats(self) -> dict[str, Any]:
        """Counts by status and reason, runs, mailings, events: never a number."""
        from .reporting import stats
        self._ready()
        return stats(self)

    def export(self, path: str | Path, reason: str = "") -> int:
        """Write every number row to parquet (mode 0600, audited with who, when, how many
        and ``reason``); returns the row count."""
        from .reporting import export
        self._ready()
        return export(self, Path(path), reason)



def _as_series(values: pl.Series | Sequence[str], name: str) -> pl.Series:
    return pl.Series(name, values, dtype=pl.Utf8) if not isinstance(values, pl.Series) else (
        values.cast(pl.Utf8).rename(name))


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()

