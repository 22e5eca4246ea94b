"""The one way this project runs a Great Expectations 1.x suite on a polars frame.

Why it looks like this:
- GX has no polars engine; ``df.to_pandas()`` into a pandas datasource of an *ephemeral*
  context is the fast way in (no files, no stores, nothing left behind).
- GX's default result formats copy failing values into results and Data Docs. A register
  value must never reach a file, so every validation uses ``RESULT_FORMAT`` (SUMMARY with
  no partial list) and what we keep is reduced further to per-expectation success and
  counts (`ExpectationOutcome`): no values, no exception text (which may quote values).
- A custom expectation class that is not imported before its JSON suite loads is silently
  dropped by GX (it logs and carries on). `load_suite` refuses a suite that lost any.
- Row numbers never come from GX: callers compute row flags in polars and give GX the flag
  columns, so GX holds rule names and counts while polars says which rows.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

import polars as pl

from core.errors import ConfigError

if TYPE_CHECKING:  # GX is imported lazily at run time (it takes seconds)
    from great_expectations import ExpectationSuite
    from great_expectations.data_context.data_context.ephemeral_data_context import EphemeralDataContext
    from great_expectations.expectations.expectation import Expectation

os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")

#: the only result format this project passes to GX (validations and checkpoints alike)
RESULT_FORMAT: dict[str, Any] = {"result_format": "SUMMARY", "partial_unexpected_count": 0}


@dataclass(frozen=True)
class ExpectationOutcome:
    """What we keep of one expectation's result: names and counts, never values."""

    rule: str
    expectation_type: str
    column: str | None
    success: bool
    element_count: int
    unexpected_count: int
    missing_count: int
    raised_exception: bool


@dataclass(frozen=True)
class SuiteOutcome:
    """A suite run: overall success and one outcome per expectation."""

    suite_name: str
    success: bool
    outcomes: tuple[ExpectationOutcome, ...]

    def unexpected_by_rule(self) -> dict[str, int]:
        """Unexpected counts keyed by rule name (summed if a rule has several expectations)."""
        counts: dict[str, int] = {}
        for o in self.outcomes:
            counts[o.rule] = counts.get(o.rule, 0) + o.unexpected_count
        return counts

    def to_dict(self) -> dict[str, Any]:
        return {
            "suite_name": self.suite_name,
            "success": self.success,
            "expectations": [asdict(o) for o in self.outcomes],
        }


def _gx() -> ModuleType:
    """Import GX lazily (it takes seconds) and quietly.

    Callers then import the names they use from GX themselves (already loaded, so free),
    which keeps GX's own types on them."""
    logging.getLogger("great_expectations").setLevel(logging.ERROR)
    import great_expectations as gx

    return gx


def load_suite(path: str | Path, *, expected_count: int | None = None) -> ExpectationSuite:
    """Load a suite stored as JSON; refuse it if GX dropped any expectation on the way.

    Import the modules that define custom expectations *before* calling this.
    """
    _gx()
    import great_expectations as gx

    path = Path(path)
    try:
        spec = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read expectation suite {path.name} ({type(exc).__name__})") from None
    wanted = len(spec.get("expectations", []))
    suite = gx.ExpectationSuite(
        name=spec["name"], expectations=spec.get("expectations", []), meta=spec.get("meta"),
    )
    if len(suite.expectations) != wanted:
        raise ConfigError(
            f"expectation suite {path.name}: GX loaded {len(suite.expectations)} of {wanted}"
            " expectations (a custom expectation class was not imported?)"
        )
    if expected_count is not None and wanted != expected_count:
        raise ConfigError(f"expectation suite {path.name}: {wanted} expectations, expected {expected_count}")
    return suite


def subset_suite(suite: ExpectationSuite, name: str,
                 keep: Callable[[Expectation], bool]) -> ExpectationSuite:
    """A new suite with the expectations for which ``keep(expectation)`` is true."""
    _gx()
    import great_expectations as gx

    configs = [e.configuration for e in suite.expectations if keep(e)]
    return gx.ExpectationSuite(name=name, expectations=configs, meta=dict(suite.meta))


def ephemeral_context() -> EphemeralDataContext:
    """An ephemeral GX context: in-memory stores, no analytics, no progress bars (shared by
    the frame suites here and the SQL suite over the ledger)."""
    _gx()
    import great_expectations as gx
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
        ProgressBarsConfig,
    )

    config = DataContextConfig(
        store_backend_defaults=InMemoryStoreBackendDefaults(),
        analytics_enabled=False,
        progress_bars=ProgressBarsConfig(globally=False, metric_calculations=False),
    )
    return gx.get_context(mode="ephemeral", project_config=config)


def run_suite(frame: pl.DataFrame, suite: ExpectationSuite, *,
              parameters: dict[str, Any] | None = None) -> SuiteOutcome:
    """Validate ``frame`` against ``suite`` in an ephemeral context; counts only come back.

    ``parameters`` fill ``{"$PARAMETER": name}`` placeholders in the suite (e.g. today's
    date, injected so tests are deterministic).
    """
    context = ephemeral_context()
    source = context.data_sources.add_pandas("frame")
    asset = source.add_dataframe_asset("frame")
    batch_definition = asset.add_batch_definition_whole_dataframe("whole")
    batch = batch_definition.get_batch(batch_parameters={"dataframe": frame.to_pandas()})
    result = batch.validate(suite, result_format=RESULT_FORMAT,
                            expectation_parameters=parameters or {})
    return outcome_of(result, suite.name)


def outcome_of(result: Any, suite_name: str) -> SuiteOutcome:
    """Counts-only outcome of a GX validation result (frame or SQL); ConfigError when GX
    could not evaluate a rule (a silently broken rule must never read as a pass)."""
    outcomes = []
    for r in result.results:
        cfg = r.expectation_config
        summary = r.result or {}
        info = r.exception_info or {}
        raised = bool(info.get("raised_exception")) or any(
            isinstance(v, dict) and v.get("raised_exception") for v in info.values())
        outcomes.append(ExpectationOutcome(
            rule=str((cfg.meta or {}).get("rule", cfg.type)),
            expectation_type=cfg.type,
            column=cfg.kwargs.get("column"),
            success=bool(r.success),
            element_count=int(summary.get("element_count") or 0),
            unexpected_count=int(summary.get("unexpected_count") or 0),
            missing_count=int(summary.get("missing_count") or 0),
            raised_exception=raised,
        ))
    broken = [o.rule for o in outcomes if o.raised_exception]
    if broken:
        raise ConfigError(f"suite {suite_name}: GX could not evaluate rule(s) {', '.join(broken)}")
    return SuiteOutcome(suite_name=suite_name, success=bool(result.success), outcomes=tuple(outcomes))


def write_outcome(outcome: SuiteOutcome, path: str | Path) -> Path:
    """Write the counts-only results as JSON (the only GX output this project keeps)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(outcome.to_dict(), ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return path


_CUSTOM: dict[str, type] = {}


def custom_expectations() -> dict[str, type]:
    """Define (once) and return this project's custom expectation classes.

    GX finds a suite's expectation types among the classes defined so far and silently
    drops unknown ones, so every suite loader calls this first.
    ``expect_rule_flag_to_be_clear``: a boolean column computed in polars (True = the row
    breaks a rule) must be all False. It is ExpectColumnValuesToBeInSet with the set fixed,
    so GX evaluates it vectorised and reports only counts.
    """
    if not _CUSTOM:
        _gx()
        # from the defining module: great_expectations.expectations re-exports it implicitly
        from great_expectations.expectations.core.expect_column_values_to_be_in_set import (
            ExpectColumnValuesToBeInSet,
        )

        class ExpectRuleFlagToBeClear(ExpectColumnValuesToBeInSet):
            """No row may carry the flag of a broken rule."""

            value_set: list[Any] = [False]
            description: str = "rows flagged by a rule computed in polars"

        _CUSTOM["expect_rule_flag_to_be_clear"] = ExpectRuleFlagToBeClear
    return dict(_CUSTOM)
