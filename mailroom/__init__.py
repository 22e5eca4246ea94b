"""The mail room: after the printer, the operations on notices, as plain functions of the options.

Hand-over to the post office (``dispatch``), scans of the envelope's way back (``scans``:
made by hand, delivered, returned, collected at the counter), destruction after the
retention period (``retention``), re-sends and reprints of spoiled sheets
(``new_envelopes``), and the reconciliation that finds what has not reached its holder
(``reconcile``) (docs/domain.md#registered-mail-lifecycle). Every operation takes
registered-mail numbers (what a scanner reads off the envelope), checks their check digit,
and is idempotent: scanning an envelope twice changes nothing the second time. Re-sends and
reprints make small print batches through the same render and QA stages as a run.

A second application beside the flows: it uses the pipeline's stages, nothing of flows/.
"""
