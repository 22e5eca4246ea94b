"""Envelopes → print batches: consecutive runs of ``batch_size`` envelopes in bulk-mail order.

A batch is the unit of rendering, QA and resume (one folder per batch), so an envelope is
never split across batches: batches are cut on envelope boundaries of the plan produced by
:func:`transforms.households.plan_envelopes`.

Decisions: only *printed* envelopes (at least one non-manual member) are batched; a fully
manual envelope (its head is manual, see :func:`transforms.households.mark_manual`) keeps
its rows with null ``batch_no``/``batch_id``, so no resident disappears from the plan and
no batch holds an envelope with nothing to print. ``batch_id`` is ``prefix`` plus the
5-digit batch number (``B00001``); daily runs may pass ``first_batch_no`` or their own
prefix to keep ids unique across runs.
"""

from __future__ import annotations

import polars as pl

from core.errors import InputError


def assign_batches(plan: pl.DataFrame, batch_size: int, *, first_batch_no: int = 1,
                   prefix: str = "B") -> pl.DataFrame:
    """Add ``batch_no`` (UInt32, 1-based) and ``batch_id`` to every member row.

    Steps: rank printed envelopes densely by ``envelope_seq``; batch number = rank //
    batch_size + first_batch_no; ids formatted ``{prefix}{batch_no:05d}``. Row order is
    kept (the plan is already in bulk-mail order).
    """
    if not isinstance(batch_size, int) or batch_size < 1:
        raise InputError("batch_size must be a positive integer", field="batch_size")
    if first_batch_no < 1:
        raise InputError("first_batch_no must be at least 1", field="first_batch_no")
    printed = ~pl.col("is_manual") if "is_manual" in plan.columns else pl.lit(True)
    env = (plan.lazy()
           .group_by("envelope_seq")
           .agg(is_printed=printed.any())
           .filter(pl.col("is_printed"))
           .sort("envelope_seq")
           .with_columns(
               batch_no=((pl.int_range(pl.len(), dtype=pl.UInt32) // batch_size)
                         + first_batch_no).cast(pl.UInt32))
           .select("envelope_seq", "batch_no"))
    out = (plan.lazy()
           .drop(["batch_no", "batch_id"], strict=False)
           .join(env, on="envelope_seq", how="left", validate="m:1", maintain_order="left")
           .with_columns(
               batch_id=pl.when(pl.col("batch_no").is_not_null())
               .then(pl.lit(prefix) + pl.col("batch_no").cast(pl.Utf8).str.zfill(5))))
    return out.collect()


def batch_summary(plan: pl.DataFrame) -> pl.DataFrame:
    """One row per batch: ``batch_no``, ``batch_id``, ``envelopes``, ``members``, ``printed``.

    Counts that the flows reconcile against the rendered manifests (no personal data).
    """
    printed = ~pl.col("is_manual") if "is_manual" in plan.columns else pl.lit(True)
    return (plan.filter(pl.col("batch_no").is_not_null())
            .group_by("batch_no", "batch_id")
            .agg(envelopes=pl.col("envelope_seq").n_unique().cast(pl.UInt32),
                 members=pl.len().cast(pl.UInt32),
                 printed=printed.sum().cast(pl.UInt32))
            .sort("batch_no"))
