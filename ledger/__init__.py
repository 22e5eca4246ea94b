"""The ledger: every My Number ever issued, in a transactional database, with an audit trail.

``Ledger`` is the one entry point (docs/architecture.md, section Ledger): a SQLite file by
default (WAL, BEGIN IMMEDIATE writers), PostgreSQL by URL (COPY staging, table locks), the
schema built by alembic migrations run from code (``ledger.migrate``).

Modules: ``schema`` (tables, partial unique index, protective triggers), ``store`` (the
Ledger class), ``numbers`` (the bulk commit), ``events``, ``mailings`` (envelopes and
簡易書留 numbers), ``queries`` (bulk read-only lookups for resumed and daily runs),
``reporting`` (stats, export; the GX proof is ``pipeline.stages.verify``), ``bulk`` (staging tables), ``engine``.
"""

from ledger.engine import resolve_url
from ledger.numbers import CommitResult, ReissueResult
from ledger.store import Ledger

__all__ = ["CommitResult", "Ledger", "ReissueResult", "resolve_url"]
