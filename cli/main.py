"""The `mynumber` console script: one typer app, each command group in its own module.

Exit codes scripts can rely on: 0 done, 1 done with quarantined rows or QA failures,
2 unusable input or configuration (one clear line on stderr, never a traceback).
"""

from __future__ import annotations

import os
import sys

# Prefect reads its settings at import: offline, telemetry would log an error on every run.
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")

import typer
from rich.console import Console

from cli.commands import register_all
from core.errors import MyNumberError
from core.private import PRIVATE_UMASK

app = typer.Typer(
    name="mynumber",
    help="Issue My Numbers (個人番号) and print notification cards (通知カード) for a municipality.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
register_all(app)

err_console = Console(stderr=True)


def main() -> None:
    """Entry point: run the app and turn our errors into one line and an exit code."""
    # Private by default (docs/architecture.md, Private files): every file and folder this
    # process and its workers create is for the operator's account only, whatever the umask.
    os.umask(PRIVATE_UMASK)
    try:
        rv = app(standalone_mode=False)
        sys.exit(rv if isinstance(rv, int) else 0)
    except MyNumberError as exc:
        # one plain line (no rich wrapping): operators grep logs and paste it into tickets
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(exc.exit_code)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except (typer.Abort, KeyboardInterrupt):
        err_console.print("aborted")
        sys.exit(130)
    except Exception as exc:  # click usage errors come through here with standalone_mode=False
        import click

        if isinstance(exc, click.ClickException):
            exc.show()
            sys.exit(2)
        raise


if __name__ == "__main__":
    main()
