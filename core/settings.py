"""One settings object, resolved once at the edge and passed down as frozen records.

Precedence: command-line flags > environment (``MYNUMBER_*``) > settings file
(``mynumber.toml``, path from ``--config`` or ``MYNUMBER_CONFIG``) > built-in defaults.
Only the CLI calls `resolve_settings` (with ``os.environ``); nothing below it reads the
environment. Every record is frozen, small and safe to show in Prefect's UI: paths, sizes
and names, never a key, a PIN or a password (a ledger password moves to ``PGPASSWORD``).

The records nest by concern, so a stage asks only for what it uses: ``ledger``, ``key``,
``check``, ``print``, ``qa``, ``runner``, ``municipality`` and ``mail``.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields, is_dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Self, TypeVar, cast, get_args

from core.errors import ConfigError

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

DEFAULT_LEDGER_URL = "sqlite:///mynumber-data/ledger.db"
DEFAULT_KEY_REF = "mynumber-data/key.json"
CONFIG_ENV = "MYNUMBER_CONFIG"

ResidentCodeRule = Literal["mod11", "none"]
TaskRunnerName = Literal["process", "thread", "dask"]
#: "auto" prints the 2015 通知カード for issue dates before 2020-05-25 and the
#: 個人番号通知書 from that day on (docs/domain.md#individual-number-notice-2020)
NoticeFormat = Literal["auto", "2015-card", "2020-notice"]
NOTICE_CUTOVER = dt.date(2020, 5, 25)

#: the demo registered-mail range (a sender-printed 簡易書留 range; used by demo runs only)
DEMO_MAIL_RANGE = "3606000000-3606999999"


@dataclass(frozen=True)
class LedgerOptions:
    """Where the ledger lives and who is recorded in its audit log."""

    url: str = DEFAULT_LEDGER_URL
    operator: str = "unknown"


@dataclass(frozen=True)
class KeyOptions:
    """Which key derives numbers: a JSON key file path, or a ``pkcs11:`` URI (RFC 7512)."""

    ref: str = DEFAULT_KEY_REF
    pkcs11_module: str | None = None
    pin_file: str | None = None

    @property
    def is_pkcs11(self) -> bool:
        return self.ref.startswith("pkcs11:")


@dataclass(frozen=True)
class CheckOptions:
    """How the register or events file is read and checked."""

    resident_code_rule: ResidentCodeRule = "mod11"
    encoding: str | None = None


@dataclass(frozen=True)
class PrintOptions:
    """What is printed and how it is batched."""

    batch_size: int = 1000
    issue_date: str = ""  # ISO date printed as 発行日; "" means the day of the run
    notice_format: NoticeFormat = "auto"
    font_dir: str | None = None  # extra folder to look for the TrueType fonts in
    output_profile: str | None = None  # CMYK ICC profile of the PDF/X output intent (default: libgs-common's)
    duplex: bool = False  # every sheet gets a back page: the card's 追記欄 behind the card

    @property
    def issue_day(self) -> dt.date:
        return dt.date.fromisoformat(self.issue_date) if self.issue_date else dt.date.today()

    @property
    def effective_notice_format(self) -> Literal["2015-card", "2020-notice"]:
        if self.notice_format != "auto":
            return self.notice_format
        return "2020-notice" if self.issue_day >= NOTICE_CUTOVER else "2015-card"


@dataclass(frozen=True)
class QAOptions:
    """How hard in-run QA looks (full QR decoding, the sample size, the sampling seed)."""

    qr_sample_size: int = 20
    seed: int = 0
    full_qr: bool = False


@dataclass(frozen=True)
class RunnerOptions:
    """Where render and QA tasks run."""

    workers: int = 2
    task_runner: TaskRunnerName = "process"
    dask_address: str | None = None
    #: the run's own Prefect home (server database, logs), never ~/.prefect
    prefect_home: str = "mynumber-data/prefect"
    #: how long the CLI waits for the run's Prefect API server to answer (busy machines: long)
    api_start_timeout_s: int = 120


@dataclass(frozen=True)
class Municipality:
    """The sender printed on every envelope and letter (差出人)."""

    name: str = "練馬区"
    lg_code: str = "131202"  # 全国地方公共団体コード (docs/domain.md#local-government-code)
    office_name: str = "練馬区役所"
    mayor_title: str = "練馬区長"
    postal_code: str = "1768501"
    address: str = "東京都練馬区豊玉北6-12-1"
    telephone: str = "03-3993-1111"
    counter_hours: str = "平日 8:30〜17:15"
    is_sample: bool = True  # the built-in Nerima sender: refused outside demo runs


@dataclass(frozen=True)
class MailOptions:
    """Registered mail (簡易書留): the sender-printed range and how long returns are kept."""

    mail_range: str | None = None  # "FIRST-LAST" 10-digit bodies; also `ledger mail-range`
    retention_months: int = 3


@dataclass(frozen=True)
class Settings:
    """Everything a command may need, resolved once by the CLI."""

    ledger: LedgerOptions = field(default_factory=LedgerOptions)
    key: KeyOptions = field(default_factory=KeyOptions)
    check: CheckOptions = field(default_factory=CheckOptions)
    print: PrintOptions = field(default_factory=PrintOptions)
    qa: QAOptions = field(default_factory=QAOptions)
    runner: RunnerOptions = field(default_factory=RunnerOptions)
    municipality: Municipality = field(default_factory=Municipality)
    mail: MailOptions = field(default_factory=MailOptions)
    demo: bool = False

    def __post_init__(self) -> None:
        validate(self)

    def with_changes(self, **sections: Mapping[str, Any]) -> Self:
        """A copy with some fields of some sections changed: ``with_changes(print={...})``."""
        return _merge(self, {k: dict(v) for k, v in sections.items()})

    @property
    def effective_mail_range(self) -> str | None:
        """The configured range; the demo range only in demo runs (never in real ones)."""
        return self.mail.mail_range or (DEMO_MAIL_RANGE if self.demo else None)


S = TypeVar("S", bound=Settings)


def validate(settings: Settings) -> None:
    """Checks that must hold in production (raises ConfigError naming the setting)."""
    s = settings
    if s.runner.workers < 1:
        raise ConfigError("--workers must be at least 1")
    if s.print.batch_size < 1:
        raise ConfigError("--batch-size must be at least 1")
    if s.qa.qr_sample_size < 0:
        raise ConfigError("--qr-sample must be 0 or more")
    if s.runner.api_start_timeout_s < 1:
        raise ConfigError("runner.api_start_timeout_s must be at least 1")
    if s.mail.retention_months < 1:
        raise ConfigError("mail.retention_months must be at least 1")
    _check_choice("--task-runner", s.runner.task_runner, TaskRunnerName)
    _check_choice("--resident-code-rule", s.check.resident_code_rule, ResidentCodeRule)
    _check_choice("--notice-format", s.print.notice_format, NoticeFormat)
    if s.print.issue_date:
        try:
            dt.date.fromisoformat(s.print.issue_date)
        except ValueError:
            raise ConfigError("--issue-date must be a date written YYYY-MM-DD") from None
    if s.print.output_profile is not None and not Path(s.print.output_profile).is_file():
        raise ConfigError("print.output_profile (MYNUMBER_OUTPUT_PROFILE) is not a file")


def _check_choice(flag: str, value: object, choices: object) -> None:
    allowed = get_args(choices)
    if value not in allowed:
        raise ConfigError(f"{flag} must be one of {', '.join(map(str, allowed))}")


# --- resolution: file < environment < flags ---------------------------------------------

#: environment variables and the setting each one sets (section, field)
ENVIRONMENT: dict[str, tuple[str, str]] = {
    "MYNUMBER_LEDGER": ("ledger", "url"),
    "MYNUMBER_OPERATOR": ("ledger", "operator"),
    "MYNUMBER_KEY_FILE": ("key", "ref"),
    "MYNUMBER_KEY": ("key", "ref"),
    "MYNUMBER_PKCS11_MODULE": ("key", "pkcs11_module"),
    "MYNUMBER_PKCS11_PIN_FILE": ("key", "pin_file"),
    "MYNUMBER_MAIL_RANGE": ("mail", "mail_range"),
    "MYNUMBER_NOTICE_FORMAT": ("print", "notice_format"),
    "MYNUMBER_FONT_DIR": ("print", "font_dir"),
    "MYNUMBER_PREFECT_HOME": ("runner", "prefect_home"),
    "MYNUMBER_API_START_TIMEOUT": ("runner", "api_start_timeout_s"),
    "MYNUMBER_OUTPUT_PROFILE": ("print", "output_profile"),
    "MYNUMBER_DUPLEX": ("print", "duplex"),
}


def read_settings_file(path: Path) -> dict[str, dict[str, Any]]:
    """Parse a ``mynumber.toml``; unknown sections or keys are refused by name."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"settings file {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"settings file {path} cannot be read ({type(exc).__name__})") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"settings file {path} is not valid TOML: {exc}") from None
    return _sections_of(raw, f"settings file {path}")


def resolve_settings(
    flags: Mapping[str, Mapping[str, Any]] | None = None,
    environ: Mapping[str, str] | None = None,
    config_path: Path | None = None,
    *,
    demo: bool = False,
) -> Settings:
    """Settings from defaults, the settings file, the environment and flags, in that order.

    ``flags`` maps section to {field: value}; a value of None means "not given".
    """
    environ = environ or {}
    layers: list[dict[str, dict[str, Any]]] = []
    path = config_path or (Path(environ[CONFIG_ENV]) if environ.get(CONFIG_ENV) else None)
    if path is not None:
        layers.append(read_settings_file(path))
    env_layer: dict[str, dict[str, Any]] = {}
    for name, (section, key) in ENVIRONMENT.items():
        value = environ.get(name, "").strip()
        if value:
            env_layer.setdefault(section, {})[key] = value
    layers.append(env_layer)
    layers.append({s: {k: v for k, v in vals.items() if v is not None} for s, vals in (flags or {}).items()})
    merged: dict[str, dict[str, Any]] = {}
    for layer in layers:
        for section, values in layer.items():
            merged.setdefault(section, {}).update(values)
    if demo:
        merged.setdefault("demo", {})["value"] = True
    sender = merged.get("municipality", {})
    if sender and "is_sample" not in sender:
        sender["is_sample"] = False  # a sender written in the settings is the real one
    return settings_from(merged)


def settings_from(sections: Mapping[str, Mapping[str, Any]]) -> Settings:
    """Build Settings from plain sections (as read from TOML or given as flags)."""
    return _merge(_DEFAULT, sections)


def _sections_of(raw: Mapping[str, Any], where: str) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    known = {f.name: f for f in fields(Settings)}
    for section, values in raw.items():
        if section == "demo":
            out["demo"] = {"value": values}
            continue
        if section not in known or not isinstance(values, Mapping):
            raise ConfigError(f"{where}: unknown section [{section}]")
        out[section] = dict(values)
    return out


def _merge(base: S, sections: Mapping[str, Mapping[str, Any]]) -> S:
    changes: dict[str, Any] = {}
    for section, values in sections.items():
        if section == "demo":
            changes["demo"] = bool(values.get("value"))
            continue
        current = getattr(base, section, None)
        if not is_dataclass(current):
            raise ConfigError(f"unknown settings section {section!r}")
        names = {f.name: f for f in fields(current)}
        typed: dict[str, Any] = {}
        for key, value in values.items():
            if key not in names:
                raise ConfigError(f"unknown setting {section}.{key}")
            typed[key] = _coerce(section, key, value, getattr(current, key))
        # is_dataclass also admits a dataclass *class*; a section of Settings is a record
        changes[section] = replace(cast("DataclassInstance", current), **typed)
    return replace(base, **changes)


def _coerce(section: str, key: str, value: Any, current: Any) -> Any:
    """Values from the environment arrive as text: make them the field's type."""
    if isinstance(current, bool):
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in ("1", "true", "yes", "on"):
            return True
        if text in ("0", "false", "no", "off"):
            return False
        raise ConfigError(f"{section}.{key} must be true or false")
    if isinstance(current, int):
        try:
            return int(value)
        except (TypeError, ValueError):
            raise ConfigError(f"{section}.{key} must be a whole number") from None
    if value is not None and not isinstance(value, str):
        if isinstance(value, dt.date):
            return value.isoformat()
        raise ConfigError(f"{section}.{key} must be text")
    return value


def as_dict(settings: Settings) -> dict[str, Any]:
    """Plain sections, for the run record and the report (no secrets are in Settings)."""
    return asdict(settings)


_DEFAULT = Settings()
