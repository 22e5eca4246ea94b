"""One exception tree for the whole pipeline.

Messages never carry a My Number, a resident code, a name or a key: they name the file,
row, field and rule instead, because Prefect copies exception messages into run states
and events, and operators paste them into tickets.
"""

from __future__ import annotations


class MyNumberError(Exception):
    """Base of every error this project raises on purpose."""

    #: process exit code the CLI uses for this error (2: unusable input or configuration)
    exit_code: int = 2


# --- identifiers (after python-stdnum) --------------------------------------------------
class ValidationError(MyNumberError, ValueError):
    """A value is not a valid identifier."""

    # Set only on the errors of the vectorised checks
    # (`transforms.identifiers.describe_bad_rows`): the 0-based position of the first bad
    # value and the number of bad values. Declared, not defaulted: other errors lack them.
    first_position: int
    bad_count: int


class InvalidLength(ValidationError):
    """The value has the wrong number of characters."""


class InvalidFormat(ValidationError):
    """The value has characters outside ASCII 0-9 (or the identifier's alphabet)."""


class InvalidChecksum(ValidationError):
    """The check digit does not match."""


# --- input files ------------------------------------------------------------------------
class InputError(MyNumberError):
    """An input file cannot be used at all (missing, undecodable, required columns absent).

    ``file``, ``row`` (1-based data row) and ``field`` locate the problem; the message
    describes it without quoting personal data.
    """

    def __init__(self, message: str, *, file: str | None = None, row: int | None = None,
                 field: str | None = None) -> None:
        self.file, self.row, self.field = file, row, field
        where = ", ".join(
            part for part in (
                f"file {file}" if file else "",
                f"row {row}" if row is not None else "",
                f"field {field}" if field else "",
            ) if part
        )
        super().__init__(f"{where}: {message}" if where else message)


class ConfigError(MyNumberError):
    """A setting, path or option is unusable."""


# --- keys -------------------------------------------------------------------------------
class KeyFileError(ConfigError):
    """A key file is missing, malformed, the wrong length or readable by others."""


# --- ledger -----------------------------------------------------------------------------
class LedgerError(MyNumberError):
    """The ledger refused an operation or cannot be used."""


class SchemaTooNew(LedgerError):
    """The database was upgraded by a newer version of this program."""


class AlreadyIssued(LedgerError):
    """A number, or an active number for a resident, already exists."""


class NotIssued(LedgerError):
    """The resident has no active number in the ledger."""


# --- printing ---------------------------------------------------------------------------
class FontMissing(ConfigError):
    """A required TrueType font file is not installed."""


class ProfileMissing(ConfigError):
    """The ICC output profile a PDF/X batch needs is not installed."""


class QAFailure(MyNumberError):
    """A print batch does not match its manifest."""

    exit_code = 1


class KeyMismatch(LedgerError):
    """The loaded key is not the ledger's current key (another key, or DEMO/production mixed)."""
