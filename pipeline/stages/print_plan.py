"""Glue between issued residents and print batches, shared by bulk and daily runs."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import polars as pl

from layouts.batch import PrintSettings
from layouts.fit import plan_misfits
from layouts.spec import DEFAULT_SPEC
from ledger import LedgerHandle, mailings
from ledger import numbers as ledger_numbers
from pipeline.options import RunOptions
from transforms.batching import assign_batches
from transforms.glyph_check import flag_undrawable
from transforms.households import (
    PlanParams,
    assign_application_ids,
    assign_registered_mail_numbers,
    envelopes,
    mark_manual,
    plan_envelopes,
)


def build_plan(
    residents: pl.DataFrame,
    undrawable: Callable[[str], Iterable[str]],
    ledger: LedgerHandle,
    opts: RunOptions,
    *,
    application_ids: Callable[[int], list[str]],
    first_batch_no: int = 1,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Envelopes in bulk-mail order, batches, ids; and the manual-handling list.

    Returns (plan, manual): the plan has one row per member and no My Number; the manual
    list names residents whose characters no font draws, by code point, and residents whose
    text does not fit its box at the minimum legible size (``reason`` says which). Batches are
    numbered from ``first_batch_no`` (a run folder that already holds batches continues).
    """
    manual = flag_undrawable(residents, undrawable).with_columns(reason=pl.lit("undrawable"))
    misfit = plan_misfits(residents, print_settings(opts).fonts(), DEFAULT_SPEC)
    manual = pl.concat([manual, misfit.with_columns(codepoints=pl.lit(""))
                        .select(manual.columns)])
    plan = plan_envelopes(residents, PlanParams())
    plan = mark_manual(plan, manual.select("resident_code", "codepoints"))
    if misfit.height:   # the reason a print-QA reader sees: too long, not undrawable
        plan = plan.with_columns(manual_reason=pl.when(
            pl.col("resident_code").is_in(misfit["resident_code"].implode())
            & pl.col("manual_reason").eq("undrawable")).then(pl.lit("does_not_fit"))
            .otherwise(pl.col("manual_reason")))
    plan = assign_application_ids(plan, application_ids(plan.height))
    # every envelope has a registered-mail number, hand-made ones too (they are tracked like
    # any other), and a member sent separately travels in an envelope of their own
    env = envelopes(plan)
    separate = plan.select((pl.col("is_manual") & pl.col("envelope_seq").is_in(
        env.filter(pl.col("is_printed"))["envelope_seq"].implode())).sum()).item()
    numbers = mailings.allocate(ledger,
        env.height + int(separate), configured_range=opts.effective_mail_range)
    plan = assign_registered_mail_numbers(plan, numbers[:env.height])
    plan = assign_batches(plan, opts.print.batch_size, first_batch_no=first_batch_no).with_columns(
        pl.lit(opts.print.issue_day).alias("issue_date")
    )
    plan = _number_separate(plan, numbers[env.height:])
    manual_list = manual.join(
        plan.select("resident_code", "household_id", "envelope_seq", "batch_id"),
        on="resident_code", how="left",
    ).select("resident_code", "household_id", "envelope_seq", "batch_id", "field", "codepoints",
             "reason")
    return plan, manual_list


def _number_separate(plan: pl.DataFrame, numbers: list[str]) -> pl.DataFrame:
    """``separate_registered_mail_number`` for members sent separately (manual, envelope printed)."""
    separate = pl.col("is_manual") & pl.col("batch_id").is_not_null()
    indexed = plan.with_row_index("_i")
    filled = indexed.filter(separate).select("_i").with_columns(
        pl.Series("separate_registered_mail_number", numbers, dtype=pl.Utf8))
    return indexed.join(filled, on="_i", how="left", maintain_order="left").drop("_i")


def render_numbers(ledger: LedgerHandle, rows: pl.DataFrame) -> pl.DataFrame:
    """The ledger's active number for each member: what the card must show."""
    active = ledger_numbers.active(ledger, rows.get_column("resident_code").unique())
    return active.select("resident_code", "my_number")


def print_settings(opts: RunOptions) -> PrintSettings:
    """What the layouts need from the run's settings: the sender, demo marks, fonts."""
    town = opts.municipality
    return PrintSettings(
        municipality=town.name, sender_postcode=f"{town.postal_code[:3]}-{town.postal_code[3:]}",
        sender_address=town.address, office_title=town.mayor_title, office_name=town.office_name,
        telephone=town.telephone, notice_format=opts.print.effective_notice_format, demo=opts.demo,
        font_dir=opts.print.font_dir, duplex=opts.print.duplex, output_profile=opts.print.output_profile,
    )
