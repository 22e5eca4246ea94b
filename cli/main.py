"""The `mynumber` console script: one typer app, each command group in its own module.

Exit codes scripts can rely on: 0 done, 1 done with quarantined rows or QA failures,
2 unusable input, configuration or usage (one clear line on stderr, never a traceback).

Usage errors are recognised by the shape of click's exception classes, not by
``isinstance(exc, click.ClickException)``: typer 0.29 and later bundle their own copy of
click, whose classes are not the top-level ``click`` package's, so an isinstance check
against one of them breaks the contract on the other.
"""

from __future__ import annotations

import os
import sys

# Prefect reads its settings at import: offline, telemetry would log an error on every run.
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")

import typer

from cli.commands import register_all
from core.errors import MyNumberError
from core.private import PRIVATE_UMASK

DIST_NAME = "mynumber-issuance"

app = typer.Typer(
    name="mynumber",
    help="Issue My Numbers (個人番号) and print notification cards (通知カード) for a municipality.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def version_text() -> str:
    """``mynumber VERSION`` from the installed distribution (the source tree's when not installed)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f"mynumber {version(DIST_NAME)}"
    except PackageNotFoundError:  # pragma: no cover - running from an uninstalled tree
        return "mynumber (not installed)"


def _show_version(value: bool) -> None:
    if value:
        print(version_text())
        raise typer.Exit(0)


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", is_eager=True, callback=_show_version,
                                 help="Print the version and exit."),
) -> None:
    """Issue My Numbers (個人番号) and print notification cards (通知カード) for a municipality."""


register_all(app)


def _class_names(exc: BaseException) -> set[str]:
    return {cls.__name__ for cls in type(exc).__mro__}


def usage_message(exc: BaseException) -> str | None:
    """One line for a click/typer usage error (any click copy), or None when it is not one."""
    names = _class_names(exc)
    if "ClickException" not in names or not hasattr(exc, "format_message"):
        return None
    message = " ".join(str(exc.format_message()).split())
    ctx = getattr(exc, "ctx", None)
    path = getattr(ctx, "command_path", None) if ctx is not None else None
    hint = f" (see `{path} --help`)" if path and "UsageError" in names else ""
    return f"{message}{hint}"


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the app and turn every expected failure into one line and an exit code."""
    # Private by default (docs/architecture.md, Private files): every file and folder this
    # process and its workers create is for the operator's account only, whatever the umask.
    os.umask(PRIVATE_UMASK)
    try:
        rv = app(args=argv, prog_name="mynumber", standalone_mode=False)
        sys.exit(rv if isinstance(rv, int) else 0)
    except MyNumberError as exc:
        # one plain line (no rich wrapping): operators grep logs and paste it into tickets
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        print("aborted", file=sys.stderr)
        sys.exit(130)
    except SystemExit:
        raise
    except Exception as exc:
        names = _class_names(exc)
        if "Exit" in names and isinstance(getattr(exc, "exit_code", None), int):
            sys.exit(getattr(exc, "exit_code", 0))  # typer.Exit / click's Exit, whichever click is installed
        if "Abort" in names:
            print("aborted", file=sys.stderr)
            sys.exit(130)
        message = usage_message(exc)
        if message is not None:
            if "NoArgsIsHelpError" not in names:  # that one has just printed the help
                print(f"error: {message}", file=sys.stderr)
            sys.exit(2)
        raise


if __name__ == "__main__":
    main()
