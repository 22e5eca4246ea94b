"""Console logging for operators: Prefect's progress lines, without tracebacks.

Prefect logs a failed task with its traceback to the console and to its API. The
operator's terminal gets our one-line error instead (cli.main); the Prefect UI
keeps the full record for engineers. Our own messages carry no personal data, and
foreign exceptions are re-raised without their message (flows.common.guarded).
"""

from __future__ import annotations

import logging


class _DropTracebacks(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.exc_info = None
        record.exc_text = None
        return True


def quiet_console_tracebacks() -> None:
    """Strip tracebacks from records printed by Prefect's console handlers."""
    import prefect  # noqa: F401  (configures logging on import)
    from prefect.logging.handlers import PrefectConsoleHandler

    for name in ("", "prefect"):
        for handler in logging.getLogger(name).handlers:
            if isinstance(handler, PrefectConsoleHandler) and not any(
                isinstance(f, _DropTracebacks) for f in handler.filters
            ):
                handler.addFilter(_DropTracebacks())
