"""The ledger: every My Number ever issued, in a transactional database, with an audit trail.

``open_ledger(url, operator=...)`` is the one door (docs/architecture.md, section Ledger): it
checks the schema once (``create=True`` also creates a missing ledger) and returns a
``LedgerHandle``. A SQLite file by default (WAL, BEGIN IMMEDIATE writers), PostgreSQL by URL
(COPY staging, table locks), the schema built by alembic migrations run from code.

Each area is a module of plain functions of the handle (or, inside a caller's transaction,
of the ``WriteContext`` that ``handle.write()`` yields, which owns the audit append):

- ``numbers``: commit, record_existing, active, owners, reissue
- ``runs``: start, find, finish
- ``keys``: check (in a transaction), bind_key, rotate, known_keys
- ``events``: record;  ``queries``: bulk read-only lookups for resumed and daily runs
- ``notices``: each card's life (save_records, pending, records_of, record, mark_batch,
  transition, void_unprinted, counts, planning_lock, ...)
- ``mailings``: the envelope row (record), 簡易書留 ranges (add_range, allocate), and its
  status derived from its notices (status_of, status_counts)
- ``reporting``: stats, export, recent_audit (the GX proof is ``pipeline.stages.verify``);
  ``integrity``: check_integrity, export_head
- ``locks``: the run lock;  ``roles``: PostgreSQL least privilege;  ``preflight``: read-only
  looks before a run

Internals: ``handle``, ``chain`` (the audit hash chain and its append), ``schema``,
``migrate``, ``engine``, ``staging`` (temporary tables, COPY), ``frames`` (frame checks).
"""

from ledger.engine import resolve_url
from ledger.handle import LedgerHandle, WriteContext, open_ledger
from ledger.numbers import CommitResult, ReissueResult

__all__ = ["CommitResult", "LedgerHandle", "ReissueResult", "WriteContext", "open_ledger",
           "resolve_url"]
