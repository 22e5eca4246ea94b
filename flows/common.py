"""What every flow shares: task defaults, the task-runner choice, privacy-safe failures.

Prefect copies an exception's message into run states, events and the UI. Library
errors (polars, SQL drivers) sometimes quote the offending value, which could be a
resident's data or a number, so any exception that is not one of ours is replaced by
one that names only the stage and the exception type.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, ParamSpec, TypeVar

from prefect.cache_policies import NO_CACHE
from prefect.task_runners import ProcessPoolTaskRunner, TaskRunner, ThreadPoolTaskRunner

from core.errors import MyNumberError
from pipeline.options import RunOptions

P = ParamSpec("P")
R = TypeVar("R")

log = logging.getLogger("mynumber.flows")

#: task settings: nothing cached, nothing pickled to result storage (results are counts,
#: but Prefect's result store is plain pickles and must never become a data store)
TASK_DEFAULTS: dict[str, Any] = {"cache_policy": NO_CACHE, "persist_result": False}
IO_RETRIES: dict[str, Any] = {"retries": 2, "retry_delay_seconds": 2}


class StageFailed(MyNumberError):
    """A stage failed for a reason that is not one of ours (details in the local log)."""


def guarded(stage: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Re-raise foreign exceptions without their message (it may quote personal data)."""

    def wrap(func: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(func)
        def inner(*args: P.args, **kwargs: P.kwargs) -> R:
            try:
                return func(*args, **kwargs)
            except MyNumberError:
                raise
            except OSError as exc:  # the cause in words: disk full, permission denied, not a folder
                from pipeline.files import describe_os_error

                log.error("stage %s failed: %s", stage, describe_os_error(exc))
                raise StageFailed(f"stage {stage} failed: {describe_os_error(exc)}") from None
            except Exception as exc:
                log.error("stage %s failed with %s", stage, type(exc).__name__)
                raise StageFailed(
                    f"stage {stage} failed with {type(exc).__module__}.{type(exc).__name__}"
                ) from None

        return inner

    return wrap


def task_runner_for(opts: RunOptions) -> TaskRunner[Any]:
    """Processes on this machine by default; a Dask cluster when one machine is not enough.

    ``TaskRunner[Any]``: the runners' future types differ, and ``Flow.with_options`` takes a
    ``TaskRunner[PrefectFuture[Any]]`` (invariant), which none of them is exactly.
    """
    if opts.runner.task_runner == "thread" or opts.runner.workers == 1:
        return ThreadPoolTaskRunner(max_workers=max(1, opts.runner.workers))
    if opts.runner.task_runner == "dask":
        from prefect_dask.task_runners import DaskTaskRunner

        if opts.runner.dask_address:
            return DaskTaskRunner(address=opts.runner.dask_address)
        return DaskTaskRunner(
            cluster_kwargs={"n_workers": opts.runner.workers, "threads_per_worker": 1, "processes": True}
        )
    return ProcessPoolTaskRunner(max_workers=opts.runner.workers)


class StageTimer:
    """Wall-clock seconds per stage, for the run report."""

    def __init__(self) -> None:
        self.timings: dict[str, float] = {}

    @contextmanager
    def __call__(self, stage: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.timings[stage] = round(time.perf_counter() - start, 3)


def outcome(report: dict[str, Any]) -> Any:
    """What a flow returns: its report, or a Failed state carrying it when print QA failed,
    so the Prefect UI shows the run as Failed next to its report artifact."""
    failed = report.get("qa", {}).get("failed_batches", [])
    if report.get("qa", {}).get("verdict", "pass") == "pass":
        return report
    from prefect.states import Failed

    return Failed(message=f"print QA failed ({len(failed) or 'some'} batch(es)); see the run report",
                  data=report)


def call_flow(flow_obj: Any, opts: RunOptions, run_name: str | None, *args: Any) -> dict[str, Any]:
    """Run a flow with the options' task runner, named for the run; the report, whatever its state."""
    options: dict[str, Any] = {"task_runner": task_runner_for(opts)}
    if run_name:
        options["flow_run_name"] = run_name
    state = flow_obj.with_options(**options)(*args, return_state=True)
    if state.is_completed():
        result: dict[str, Any] = state.result()
        return result
    data = state.result(raise_on_failure=False)
    if isinstance(data, dict) and "run_id" in data:  # QA failed: the report travels in the state
        return data
    if isinstance(data, BaseException):
        raise data
    state.result()  # raises the flow's error
    raise StageFailed("the flow ended without a report")  # pragma: no cover
