"""Stages: what the flows' tasks (and the mail room) call, each some I/O around one call.

Each stage reads its inputs from the run folder or the ledger and writes its outputs
there, and returns a small dict of counts, timings and paths: the only things Prefect
sees. Every stage can be re-run after a crash and gives the same result:

- the print plan: written once per run id (atomically); a resumed run reads it back,
  so application ids and registered-mail numbers do not change;
- batches: a batch folder that verifies against its SHA256SUMS is not rendered again.

In the order a run meets them: ``check`` (``register_check`` does the reading and the GX
suite; ``foresee`` is ``check --key``), ``bookkeeping`` (the run's start and finish in the
ledger), ``issue`` (bulk: derive numbers) or ``apply_events`` (daily), ``plan``
(``print_plan``: envelopes and batches), ``batches`` (render and QA one batch);
``verify`` is ``ledger verify``. The run's infrastructure (options, files, progress, the
run lock, preflight, results, the report) is ``pipeline`` itself.
"""
