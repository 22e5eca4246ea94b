"""`ledger verify`: the GX uniqueness proof over the ledger, recorded in the audit log.

The proof (expectations) and the ledger are siblings; joining them is this layer's job.
"""

from __future__ import annotations

from pathlib import Path

from expectations.ledger import VerifyResult, run_ledger_suite
from ledger import Ledger


def verify_ledger(ledger: Ledger, *, result_path: Path | None = None) -> VerifyResult:
    """Run expectations/ledger_suite.json over the ledger and audit the verdict (counts only)."""
    result = run_ledger_suite(ledger.url.render_as_string(hide_password=False),
                              result_path=result_path)
    failed = ", ".join(result.failed_rules) or "none"
    ledger.audit("verify", f"GX ledger suite over {result.rows} row(s): "
                 f"{'passed' if result.success else 'FAILED'} (failed rules: {failed})", "")
    return result
