"""Progress bars for long stages, shown only when a person is watching a terminal."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn


@contextmanager
def progress(total: int, description: str) -> Iterator[Callable[[], None]]:
    """Yield an ``advance()`` callable; draws a rich bar on a TTY, does nothing otherwise."""
    if not sys.stderr.isatty() or total <= 0:
        yield lambda: None
        return
    with Progress(
        TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
        TimeElapsedColumn(), transient=False,
    ) as bar:
        task_id = bar.add_task(description, total=total)
        yield lambda: bar.advance(task_id)
