"""`ledger verify`: the GX uniqueness proof over the ledger, recorded in the audit log.

The proof (expectations) and the ledger are siblings; joining them is this layer's job.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from expectations.ledger import VerifyResult, run_ledger_suite
from ledger import LedgerHandle
from ledger.integrity import IntegrityResult, check_integrity


def verify_ledger(ledger: LedgerHandle, *, result_path: Path | None = None) -> VerifyResult:
    """Run expectations/ledger_suite.json over the ledger and audit the verdict (counts only)."""
    result = run_ledger_suite(ledger.url.render_as_string(hide_password=False),
                              result_path=result_path)
    failed = ", ".join(result.failed_rules) or "none"
    with ledger.write() as w:
        w.audit("verify", f"GX ledger suite over {result.rows} row(s): "
                f"{'passed' if result.success else 'FAILED'} (failed rules: {failed})", "")
    return result


def verify_integrity(ledger: LedgerHandle, *, anchor: dict[str, Any] | None = None,
                     key: Any = None) -> IntegrityResult:
    """The tamper-evidence rules (ledger.integrity) over the ledger; the verdict is audited
    (rule names and counts only) after the checks, so it never hides what it checks."""
    result = check_integrity(ledger, anchor=anchor, key=key)
    failed = ", ".join(result.failed_rules) or "none"
    with ledger.write() as w:
        w.audit("verify_integrity",
                f"integrity rules {', '.join(result.rules)}: "
                f"{'passed' if result.success else 'FAILED'} (failed rules: {failed})",
                f"key {key.key_id}" if key is not None else "")
    return result
