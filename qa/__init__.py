"""Independent print QA: re-read a batch folder and compare it with manifest, plan and ledger.

``qa.check_batch(batch_dir, ledger=..., plan=..., full_qr=..., qr_sample_size=..., seed=...)``
writes ``batch_dir/qa.json`` and returns it (see :mod:`qa.batch_qa`).
"""

from qa.batch_qa import check_batch

__all__ = ["check_batch"]
