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
