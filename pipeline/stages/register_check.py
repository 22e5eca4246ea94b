"""Check a register or events file: read → normalise → register suite → report.

Every input row ends either accepted or quarantined with at least one reason; the counts
add up (``outcomes`` sums to ``input_rows``). What is written (report.json,
quarantine.csv, gx_results.json) carries row numbers, field names, rule names and counts,
never a value from the register. An unusable file raises InputError (exit 2).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from core.private import private_dir, write_private
from expectations import gx as gxrun
from expectations.register import TEXT_CAPS, RuleParams, check_frame, load_rules, prepare_check_frame
from ledger.schema import register_field_limits
from readers import read_table
from transforms.brought_numbers import QUARANTINE_SCHEMA
from transforms.identifiers import resident_code as resident_code_id
from transforms.register import NormaliseParams, normalise_register


@dataclass
class RegisterCheck:
    """The outcome of checking one file (see docs/architecture.md)."""

    accepted: pl.DataFrame      # canonical frame, rows that passed
    quarantine: pl.DataFrame    # row, field, reason
    report: dict[str, Any]      # input_rows, outcomes, rules, ...
    suite: gxrun.SuiteOutcome | None = None  # the GX suite's outcome (written as gx_results.json)


def with_holds(result: RegisterCheck, holds: pl.DataFrame, foreseen: dict[str, Any]) -> RegisterCheck:
    """``result`` with more rows held (``holds``: row, field, reason), counts kept adding up.

    ``check --key`` adds what only the key and the ledger can see (``pipeline.stages.foresee``);
    ``foreseen`` says against what (key id, ledger, holds), and goes into the report.
    """
    holds = holds.select("row", "field", "reason").cast(QUARANTINE_SCHEMA)
    quarantine = pl.concat([result.quarantine.cast(QUARANTINE_SCHEMA), holds]).unique().sort("row", "field", "reason")
    bad_rows = quarantine["row"].unique()
    accepted = result.accepted.filter(~pl.col("row").is_in(bad_rows.implode()))
    rules = dict(result.report["rules"])
    for rule, n in holds.group_by(_rule_of(pl.col("reason")).alias("rule")).len().iter_rows():
        rules[rule] = rules.get(rule, 0) + int(n)
    report = {
        **result.report,
        "outcomes": {"accepted": accepted.height, "quarantined": bad_rows.len()},
        "rules": dict(sorted(rules.items())),
        "quarantine_entries": quarantine.height,
        "foreseen": {**foreseen, "rows_held": holds["row"].n_unique()},
    }
    if report["outcomes"]["accepted"] + report["outcomes"]["quarantined"] != report["input_rows"]:
        raise AssertionError("check --key: the counts no longer add up")  # a bug, never input
    return RegisterCheck(accepted=accepted, quarantine=quarantine, report=report, suite=result.suite)


def _rule_of(reason: pl.Expr) -> pl.Expr:
    return reason.str.split(":").list.first()


def field_limits() -> tuple[tuple[str, int], ...]:
    """Text limits of the check: the documented caps, lowered to the ledger's column sizes.

    Only fields that have a length rule in the suite (``TEXT_CAPS``); resident codes and
    numbers have their own exact-format rules.
    """
    db = register_field_limits()
    return tuple((f, min(cap, db.get(f, cap))) for f, cap in TEXT_CAPS.items())


def check_register_file(path: str | Path, *, encoding: str | None = None,
                        resident_code_rule: str = "mod11", kind: str = "register",
                        out_dir: str | Path | None = None,
                        today: dt.date | None = None, run_gx: bool = True) -> RegisterCheck:
    """Check a register (or, with ``kind="events"``, a daily events file).

    ``today`` bounds plausible dates (default: the real date; tests inject one).
    ``out_dir``: write report.json, quarantine.csv and gx_results.json there.
    ``run_gx=False``: the same verdicts from the polars flags only (tests of many
    files). No stage re-reads its input: later stages read the check stage's output.
    """
    resident_code_id.get_rule(resident_code_rule)  # unknown rule → ConfigError before reading
    path = Path(path)
    read = read_table(path, encoding=encoding, kind=kind)
    norm = normalise_register(read.frame, NormaliseParams(kind=kind))
    params = RuleParams(kind=kind, resident_code_rule=resident_code_rule, today=today,
                        field_limits=field_limits())
    checked = check_frame(prepare_check_frame(norm.frame, read.frame), params, run_gx=run_gx)

    quarantine = (
        pl.concat([read.quarantine, norm.quarantine, checked.quarantine])
        .cast(QUARANTINE_SCHEMA)
        .unique()
        .sort("row", "field", "reason")
    )
    bad_rows = quarantine["row"].unique()
    accepted = norm.frame.filter(~pl.col("row").is_in(bad_rows.implode()))
    input_rows = read.frame.height

    rules: dict[str, int] = {r.name: 0 for r in load_rules() if kind in r.kinds}
    rules.update(checked.counts)
    extra_counts = (
        pl.concat([read.quarantine, norm.quarantine])
        .group_by(_rule_of(pl.col("reason")).alias("rule")).len()
    )
    for rule, n in extra_counts.iter_rows():
        rules[rule] = rules.get(rule, 0) + int(n)
    report: dict[str, Any] = {
        "file": path.name,
        "kind": kind,
        "encoding": read.encoding,
        "resident_code_rule": resident_code_rule,
        "today": (today or dt.date.today()).isoformat(),
        "input_rows": input_rows,
        "outcomes": {"accepted": accepted.height, "quarantined": bad_rows.len()},
        "rules": dict(sorted(rules.items())),
        "quarantine_entries": quarantine.height,
        "ignored_columns": read.ignored_columns,
        "field_limits": dict(params.field_limits),
        "suite": checked.outcome.suite_name,
        "suite_success": checked.outcome.success,
        "suite_consistent": checked.consistent,
    }
    assert report["outcomes"]["accepted"] + report["outcomes"]["quarantined"] == input_rows
    if out_dir is not None:
        write_check_outputs(Path(out_dir), report, quarantine, checked.outcome)
    return RegisterCheck(accepted=accepted, quarantine=quarantine, report=report, suite=checked.outcome)


def write_check_outputs(out_dir: Path, report: dict[str, Any], quarantine: pl.DataFrame,
                        outcome: gxrun.SuiteOutcome | None) -> None:
    """report.json, quarantine.csv (row, field, reason), gx_results.json (counts only)."""
    private_dir(out_dir)
    write_private(out_dir / "report.json",
                  (json.dumps(report, ensure_ascii=False, indent=2) + "\n").encode("utf-8"))
    quarantine.select("row", "field", "reason").write_csv(out_dir / "quarantine.csv")
    if outcome is not None:
        gxrun.write_outcome(outcome, out_dir / "gx_results.json")
