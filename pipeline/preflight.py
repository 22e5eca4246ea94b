"""Preflight: everything a bulk or daily run needs, checked before any work and any write.

Issue 13 found a missing register or key reported 22-36 s into a run, with the ledger run
left ``running``. Here each condition is checked in well under a second, read-only, and the
first failure is one ConfigError line that names the cause and the fix (exit 2):

input readable and of a known kind · the run folder creatable, writable, not a file ·
the key loadable and acceptable for this ledger · a real sender outside demo runs ·
the ledger reachable with a schema this program knows · enough registered-mail numbers
for the envelopes expected · the fonts installed · free disk for the batches expected.
"""

from __future__ import annotations

import math
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from core.errors import ConfigError, InputError, MyNumberError
from pipeline.options import RunOptions

if TYPE_CHECKING:
    from ledger.keys import LedgerKey

#: input kinds the readers know (readers.tables): CSV exports and Parquet
KNOWN_SUFFIXES = (".csv", ".txt", ".tsv", ".parquet")
#: envelopes per input row: a register averages ~0.49 households per resident (bench/bulk.py:
#: 348,714 envelopes for 715,000 residents); a daily event can need one envelope each
ENVELOPES_PER_ROW = {"bulk": 0.55, "daily": 1.0}
#: pages per input row (bench/bulk.py: 1,063,059 pages for 715,000 residents = 1.49)
PAGES_PER_ROW = 1.6
#: bytes per printed page, with margin: bench/startup.py measured 1,851 B/page (fonts are
#: subset once per batch PDF), doubled for batches of long names and manual-handling sheets
BYTES_PER_PAGE = 4_000
#: head room for manifests, reports and work files
DISK_MARGIN_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True)
class Preflight:
    """What preflight learned, for the run name and the report."""

    input_rows: int
    expected_envelopes: int
    needed_bytes: int
    mail_numbers_left: int
    ledger_exists: bool


def check_input(path: Path) -> int:
    """The input file is there, readable and of a known kind; returns its data rows (estimate)."""
    if not path.exists():
        raise InputError("file not found: check the path", file=str(path))
    if not path.is_file():
        raise InputError("not a regular file (a folder?): give the export file itself", file=str(path))
    try:
        with path.open("rb") as fh:
            head = fh.read(4)
    except PermissionError:
        raise InputError("permission denied: make the file readable by this user", file=str(path)) from None
    except OSError as exc:
        raise InputError(f"cannot be read ({exc.strerror or type(exc).__name__})", file=str(path)) from None
    if not head:
        raise InputError("the file is empty", file=str(path))
    if head == b"PAR1":
        return _parquet_rows(path)
    if path.suffix.lower() not in KNOWN_SUFFIXES:
        raise InputError(f"unknown kind of file {path.suffix or '(no suffix)'}: give a CSV or Parquet "
                         "export", file=str(path))
    if path.suffix.lower() == ".parquet":
        raise InputError("not a Parquet file (no PAR1 header)", file=str(path))
    return _csv_rows(path)


def _csv_rows(path: Path) -> int:
    lines = 0
    last = b"\n"
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 22):
            lines += chunk.count(b"\n")
            last = chunk[-1:]
    if last != b"\n":
        lines += 1
    return max(0, lines - 1)  # the header


def _parquet_rows(path: Path) -> int:
    import pyarrow.parquet as pq

    try:
        return int(pq.read_metadata(path).num_rows)
    except Exception:
        raise InputError("not a readable Parquet file", file=str(path)) from None


def existing_ancestor(path: Path) -> Path:
    """The nearest folder of ``path`` (or itself) that exists."""
    path = path.absolute()
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def check_out_dir(out: Path) -> Path:
    """The run folder exists as a writable folder or can be created; returns where it lives."""
    if out.exists() and not out.is_dir():
        raise ConfigError(f"--out {out} is a file, not a folder: give a folder for the run")
    base = existing_ancestor(out)
    if not base.is_dir():
        raise ConfigError(f"--out {out} cannot be created: {base} is a file, not a folder")
    if not os.access(base, os.W_OK | os.X_OK):
        what = "is not writable" if base == out.absolute() else f"cannot be created: {base} is not writable"
        raise ConfigError(f"--out {out} {what} (permission denied): choose a folder this user may write")
    return base


def check_key(opts: RunOptions) -> None:
    """The key opens (a file key: present, 0600, well-formed; a token key: module, PIN file,
    object) and suits this ledger."""
    from core.keys import open_key

    key_acceptable_for_ledger(opts, open_key(opts.key))


def key_acceptable_for_ledger(opts: RunOptions, key: LedgerKey) -> None:
    """The one place that decides whether this key may issue into this ledger: the ledger's
    current key, DEMO with DEMO only (ledger.keys). Read-only; the run binds a new ledger."""
    from ledger.preflight import check_key_read_only

    check_key_read_only(opts.ledger.url, key)


def check_sender(opts: RunOptions) -> None:
    """The built-in sample sender (練馬区) prints only in demo runs."""
    if opts.municipality.is_sample and not opts.demo:
        raise ConfigError(
            "the sender (差出人) is still the built-in sample municipality: set [municipality] in the "
            "settings file (`mynumber init` writes one; --config or MYNUMBER_CONFIG), or use a DEMO key")


def check_fonts(opts: RunOptions) -> None:
    from layouts.fonts import FONT_FILES, find_font

    for role in FONT_FILES:
        find_font(role, font_dir=opts.print.font_dir)


def check_ledger(opts: RunOptions, envelopes: int) -> tuple[bool, int]:
    """Ledger reachable, schema known, enough registered-mail numbers for ``envelopes``."""
    from ledger.preflight import look

    seen = look(opts.ledger.url, opts.effective_mail_range)
    if seen.mail_numbers_left == 0 and envelopes > 0:
        raise ConfigError(
            "no registered-mail (簡易書留) number range is set: register the range the post office "
            "assigned with `mynumber ledger mail-range FIRST LAST` or set mail.mail_range")
    if seen.mail_numbers_left < envelopes:
        raise ConfigError(
            f"registered-mail numbers left: {seen.mail_numbers_left}, this run expects up to {envelopes} "
            "envelopes: add a range with `mynumber ledger mail-range FIRST LAST`")
    return seen.exists, seen.mail_numbers_left


def check_disk(out: Path, needed: int) -> None:
    free = shutil.disk_usage(existing_ancestor(out)).free
    if free < needed:
        raise ConfigError(
            f"disk full: {free // 2**20} MiB free under {existing_ancestor(out)}, this run needs about "
            f"{needed // 2**20} MiB: free space or choose another --out")


def run_preflight(opts: RunOptions, input_path: Path, kind: str) -> Preflight:
    """Every check, cheapest first; the first failure raises (nothing has been written)."""
    try:
        rows = check_input(input_path)
        out = Path(opts.out_dir)
        check_out_dir(out)
        check_key(opts)
        check_sender(opts)
        check_fonts(opts)
        envelopes = math.ceil(rows * ENVELOPES_PER_ROW.get(kind, 1.0))
        exists, left = check_ledger(opts, envelopes)
        needed = math.ceil(rows * PAGES_PER_ROW * BYTES_PER_PAGE) + DISK_MARGIN_BYTES
        check_disk(out, needed)
    except MyNumberError:
        raise
    except OSError as exc:  # an unexpected I/O failure still gets words, not a class name
        from pipeline.files import describe_os_error

        raise ConfigError(f"preflight: {describe_os_error(exc)}") from None
    return Preflight(input_rows=rows, expected_envelopes=envelopes, needed_bytes=needed,
                     mail_numbers_left=left, ledger_exists=exists)
