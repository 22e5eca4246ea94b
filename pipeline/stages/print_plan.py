"""The plan stage's glue: fonts, ids and the ledger around the pure plan rules; print settings."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import polars as pl

from layouts.batch import PrintSettings
from layouts.fit import plan_misfits
from layouts.spec import DEFAULT_SPEC
from ledger import LedgerHandle, mailings
from ledger import numbers as ledger_numbers
from pipeline.options import RunOptions
from transforms.glyph_check import flag_undrawable
from transforms.print_plan import UNDRAWABLE, PlanRules, finish_plan, mail_numbers_needed, plan_households


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
    The rules are pure (``transforms.print_plan``); this adds what needs the fonts, fresh ids
    and the ledger's registered-mail numbers (its one call).
    """
    manual = flag_undrawable(residents, undrawable).with_columns(reason=pl.lit(UNDRAWABLE))
    misfit = plan_misfits(residents, print_settings(opts).fonts(), DEFAULT_SPEC)
    manual = pl.concat([manual, misfit.with_columns(codepoints=pl.lit("")).select(manual.columns)])
    plan = plan_households(residents, manual)
    numbers = mailings.allocate(ledger,
        mail_numbers_needed(plan), configured_range=opts.effective_mail_range)
    rules = PlanRules(opts.print.batch_size, opts.print.issue_day, first_batch_no)
    return finish_plan(plan, manual, application_ids(plan.height), numbers, rules)


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
