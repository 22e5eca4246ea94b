"""The print plan's rules (pure): households into envelopes, the manual list, ids, batches.

What cannot be pure is given: the residents whose characters no font draws or whose text
does not fit (``manual``: found with the fonts, in ``layouts``), fresh application ids and
registered-mail numbers (drawn and allocated by the stage). The stage
(``pipeline.stages.print_plan.build_plan``) asks ``mail_numbers_needed`` how many numbers
to allocate, then ``finish_plan`` places them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import polars as pl

from transforms import households
from transforms.batching import assign_batches

#: the manual list's reason for a character no font draws
UNDRAWABLE = "undrawable"


@dataclass(frozen=True)
class PlanRules:
    """The run's print settings that shape the plan."""

    batch_size: int
    issue_day: dt.date
    first_batch_no: int = 1   # a run folder that already holds batches continues


def plan_households(residents: pl.DataFrame, manual: pl.DataFrame) -> pl.DataFrame:
    """Envelopes in bulk-mail order, one row per member, manual members marked.

    ``manual``: resident_code, codepoints, reason: "undrawable" for a character no font draws,
    else the sentence saying which field does not fit (``layouts.fit.plan_misfits``).
    """
    plan = households.mark_manual(households.plan_envelopes(residents, households.PlanParams()), manual.select("resident_code", "codepoints"))
    misfit = manual.filter(pl.col("reason") != UNDRAWABLE).get_column("resident_code")
    if misfit.len():   # the reason a print-QA reader sees: too long, not undrawable
        plan = plan.with_columns(manual_reason=pl.when(
            pl.col("resident_code").is_in(misfit.implode())
            & pl.col("manual_reason").eq("undrawable")).then(pl.lit("does_not_fit"))
            .otherwise(pl.col("manual_reason")))
    return plan


def mail_numbers_needed(plan: pl.DataFrame) -> int:
    """One registered-mail number per envelope, hand-made ones too (they are tracked like any
    other), and one more per member sent separately (manual, in a printed envelope)."""
    env = households.envelopes(plan)
    separate = plan.select((pl.col("is_manual") & pl.col("envelope_seq").is_in(
        env.filter(pl.col("is_printed"))["envelope_seq"].implode())).sum()).item()
    return env.height + int(separate)


def finish_plan(plan: pl.DataFrame, manual: pl.DataFrame, application_ids: list[str],
                mail_numbers: list[str], rules: PlanRules) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(plan, manual list): ids, registered-mail numbers (``mail_numbers_needed`` of them),
    batches and the issue date placed; the manual list says where each manual member went."""
    envelope_count = households.envelopes(plan).height
    plan = households.assign_application_ids(plan, application_ids)
    plan = households.assign_registered_mail_numbers(plan, mail_numbers[:envelope_count])
    plan = assign_batches(plan, rules.batch_size, first_batch_no=rules.first_batch_no).with_columns(
        pl.lit(rules.issue_day).alias("issue_date")
    )
    plan = _number_separate(plan, mail_numbers[envelope_count:])
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
