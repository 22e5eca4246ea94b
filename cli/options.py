"""Options shared by commands, and the one place where settings are resolved.

Flags > environment (``MYNUMBER_*``) > settings file (``--config`` or ``MYNUMBER_CONFIG``) >
defaults: `core.settings.resolve_settings` applies that order; this module hands it the
flags the user typed and ``os.environ``. Nothing below the CLI reads the environment.
"""

from __future__ import annotations

import getpass
import os
from enum import Enum
from pathlib import Path
from typing import Any, get_args

import typer

from core.clock import SystemClock, japan_today
from core.settings import NoticeFormat, ResidentCodeRule, Settings, TaskRunnerName, resolve_settings
from pipeline.options import RunOptions, strip_ledger_password

ConfigOpt = typer.Option(None, "--config", help="Settings file (mynumber.toml); default $MYNUMBER_CONFIG.")
LedgerOpt = typer.Option(None, "--ledger",
                         help="Ledger database URL (default $MYNUMBER_LEDGER, the settings file, "
                              "else sqlite:///mynumber-data/ledger.db).")
KeyOpt = typer.Option(None, "--key",
                      help="Key file made by `mynumber keygen` (default $MYNUMBER_KEY_FILE, the settings "
                           "file, else mynumber-data/key.json).")
OperatorOpt = typer.Option(None, "--operator", help="Name recorded in the audit log (default: OS user).")
WorkersOpt = typer.Option(None, "--workers", min=1, help="Parallel render/QA processes (default 2).")
BatchOpt = typer.Option(None, "--batch-size", min=1, help="Envelopes per print batch (default 1000).")


def _choices(name: str, literal: Any) -> type[Enum]:
    """An Enum of a settings Literal: typer lists its values in --help and refuses others
    with a usage error naming the flag (exit 2)."""
    return Enum(name, {value: value for value in get_args(literal)}, type=str)  # type: ignore[return-value]


TaskRunnerChoice = _choices("TaskRunnerChoice", TaskRunnerName)
ResidentCodeRuleChoice = _choices("ResidentCodeRuleChoice", ResidentCodeRule)
NoticeFormatChoice = _choices("NoticeFormatChoice", NoticeFormat)


def choice_value(choice: Enum | str | None) -> str | None:
    """The plain value of an Enum option (None: not given)."""
    return None if choice is None else str(choice.value if isinstance(choice, Enum) else choice)


RunnerOpt = typer.Option(None, "--task-runner", help="process (this machine), thread, or dask.")
DaskOpt = typer.Option(None, "--dask-address", help="Scheduler address of a running Dask cluster.")
SampleOpt = typer.Option(None, "--qr-sample", min=0, help="QR codes decoded per batch by in-run QA (default 20).")
EncodingOpt = typer.Option(None, "--encoding", help="Input encoding: utf-8, utf-8-sig or cp932 (default: detect).")
RuleOpt = typer.Option(None, "--resident-code-rule", help="Resident-code check: mod11 (default) or none.")
NoticeOpt = typer.Option(None, "--notice-format",
                         help="2015-card, 2020-notice, or auto (by issue date; default).")


def load_settings(
    config: Path | None = None,
    *,
    ledger: str | None = None,
    key: str | os.PathLike[str] | None = None,
    operator: str | None = None,
    demo: bool = False,
    **sections: dict[str, Any],
) -> Settings:
    """Resolve the settings for one command from its flags and ``os.environ``."""
    flags: dict[str, dict[str, Any]] = {name: dict(values) for name, values in sections.items()}
    flags.setdefault("ledger", {})["url"] = ledger
    flags["ledger"]["operator"] = operator
    flags.setdefault("key", {})["ref"] = str(key) if key not in (None, "") else None
    settings = resolve_settings(flags, os.environ, config, demo=demo)
    if settings.ledger.operator == "unknown":
        settings = settings.with_changes(ledger={"operator": getpass.getuser()})
    # the password leaves the URL here, before any flow can record it as a parameter
    return settings.with_changes(ledger={"url": strip_ledger_password(settings.ledger.url, os.environ)})


def run_options(out: Path, settings: Settings) -> RunOptions:
    """The run options of a bulk or daily run writing into ``out``, the issue date (交付日)
    pinned here, once: below the CLI nothing asks the clock, so a run crossing midnight
    prints one date."""
    if not settings.print.issue_date:
        settings = settings.with_changes(print={"issue_date": japan_today(SystemClock()).isoformat()})
    return RunOptions.of(settings, out)
