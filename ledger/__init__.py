"""The ledger: every My Number ever issued, in a transactional database, with an audit trail.

``Ledger`` is the one entry point (see docs/architecture.md, section Ledger). SQLite file
by default, PostgreSQL by URL; schema by alembic migrations run from code.
"""

from ledger.engine import DEFAULT_URL, ENV_URL, resolve_url
from ledger.reporting import VerifyResult
from ledger.store import CommitResult, Ledger, ReissueResult

__all__ = ["DEFAULT_URL", "ENV_URL", "CommitResult", "Ledger", "ReissueResult", "VerifyResult",
           "resolve_url"]
