"""Reading register and event exports: the I/O edge before any transform.

What real exports look like, and what this module does about it:
- CSV (or tab-separated, recognised from the header) in UTF-8 (with or without BOM) or CP932 (often labelled Shift_JIS): detected from the
  bytes, or given. Shift_JIS is read as CP932, its superset (髙, ①, － exist only there).
- A few rows with bytes that are invalid in the file's encoding do not make the file
  unusable: they are decoded with U+FFFD and reported, so the suite quarantines them. A
  file whose header, or more than ``MAX_BAD_LINE_FRACTION`` of its lines, cannot be
  decoded is unusable (InputError naming file and first bad row).
- Japanese or English headers (住民票コード or resident_code ...) map to canonical names.
- Every column is read as Utf8, nothing is inferred (leading zeros in codes are real); a
  ``row`` column (UInt32, 1-based data row, header not counted) is added.
- Rows with more fields than the header are reported (field ``*``) rather than dropped;
  short rows read as blanks, which the required-field rules catch.
- Blank lines (empty, or only blanks and separators) are not rows, wherever they are: before
  the header too. ``row`` numbers the data lines after the header by position; the count
  of rows is what a person counting the data lines would count. Old-Mac CR-only line ends
  are read as line ends.
- UTF-16/32 (a BOM) or binary content (NULs are at least 1 % of the first 64 KiB) makes the
  file unusable; a few NULs or other control characters are text in a field, wherever they
  are, and the suite quarantines those rows.
- Parquet: see ``_parquet_column`` for the types a canonical column may have (dates as
  Date, Datetime of any unit and zone, or text; integer codes zero-padded to their fixed
  width; nested, binary and float codes refused naming the type). Columns that map to no
  canonical name are ignored whatever their type, never read, and listed.
Errors name the file, row and field, never a value.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl
from polars.exceptions import PanicException

from core.errors import ConfigError, InputError

#: canonical column → accepted header spellings (compared after NFKC, case-folded, no blanks)
HEADER_ALIASES: dict[str, tuple[str, ...]] = {
    "resident_code": ("住民票コード",),
    "household_id": ("世帯番号",),
    "relationship": ("続柄", "世帯主との続柄"),
    "family_name": ("氏",),
    "given_name": ("名",),
    "family_name_kana": ("氏カナ", "氏(カナ)", "氏フリガナ"),
    "given_name_kana": ("名カナ", "名(カナ)", "名フリガナ"),
    "alias": ("通称",),
    "date_of_birth": ("生年月日",),
    "sex": ("性別",),
    "postal_code": ("郵便番号",),
    "address": ("住所",),
    "address_extra": ("方書",),
    "my_number": ("個人番号",),
    "event": ("異動事由",),
    "event_date": ("異動日", "異動年月日"),
}

REQUIRED_REGISTER: tuple[str, ...] = (
    "resident_code", "household_id", "relationship", "family_name", "given_name",
    "family_name_kana", "given_name_kana", "date_of_birth", "sex", "postal_code", "address",
)
OPTIONAL_REGISTER: tuple[str, ...] = ("alias", "address_extra", "my_number")
REQUIRED_EVENTS: tuple[str, ...] = REQUIRED_REGISTER + ("event", "event_date")

#: a file with more undecodable lines than this fraction (and more than MAX_BAD_LINES_ANY)
#: is in another encoding, not an export with a few damaged rows
MAX_BAD_LINE_FRACTION = 0.05
MAX_BAD_LINES_ANY = 10

ENCODING_NAMES: dict[str, str] = {
    "utf-8": "utf-8", "utf8": "utf-8", "utf-8-sig": "utf-8",
    "cp932": "cp932", "ms932": "cp932", "windows-31j": "cp932", "shift_jis": "cp932",
    "shift-jis": "cp932", "sjis": "cp932", "sjis-win": "cp932",
}

#: what a reader may raise on a damaged file: polars panics (a BaseException) on some
#: corrupt Parquet metadata instead of raising an error
READ_ERRORS: tuple[type[BaseException], ...] = (Exception, PanicException)

_BOM = b"\xef\xbb\xbf"
#: bytes read to tell UTF-16/32 or binary from a CSV with a few NULs in fields
_SNIFF = 65536
_UTF16_32_BOMS = (b"\xff\xfe", b"\xfe\xff", b"\x00\x00\xfe\xff")
_LEADING_BLANK_LINES = re.compile(rb"\A(?:[ \t,]*\r?\n)+")
#: text blanks: a line of only these (and separators) is a blank line, not a row
_BLANK_TEXT = " \t\r\n\u3000"
_EXTRA_FIELD = "__extra_field__"


@dataclass
class ReadResult:
    """The raw table plus what the reader itself found wrong with single rows."""

    frame: pl.DataFrame                     # row + canonical columns, all Utf8
    quarantine: pl.DataFrame                # row, field, reason (undecodable bytes, ragged rows)
    encoding: str                           # "utf-8", "utf-8-sig", "cp932" or "parquet"
    ignored_columns: list[str] = field(default_factory=list)


def _header_key(name: str) -> str:
    return "".join(unicodedata.normalize("NFKC", name).split()).replace("\ufeff", "").casefold()


_HEADER_LOOKUP: dict[str, str] = {}
for _canon, _aliases in HEADER_ALIASES.items():
    for _spelling in (_canon, *_aliases):
        _HEADER_LOOKUP[_header_key(_spelling)] = _canon


def canonical_header(name: str) -> str | None:
    """The canonical column for a header as written in an export, or None if unknown."""
    return _HEADER_LOOKUP.get(_header_key(name))


def quarantine_frame(rows: list[int] | None = None, fields: list[str] | None = None,
                     reasons: list[str] | None = None) -> pl.DataFrame:
    """A quarantine frame (row UInt32, field Utf8, reason Utf8)."""
    return pl.DataFrame(
        {"row": rows or [], "field": fields or [], "reason": reasons or []},
        schema={"row": pl.UInt32, "field": pl.Utf8, "reason": pl.Utf8},
    )


def read_table(path: str | Path, *, encoding: str | None = None,
               kind: str = "register") -> ReadResult:
    """Read a register or events file (CSV or Parquet) into an all-Utf8 canonical frame."""
    path = Path(path)
    if kind not in ("register", "events"):
        raise ConfigError(f"unknown kind {kind!r}: use register or events")
    if not path.exists():
        raise InputError("file not found", file=str(path))
    if not path.is_file():
        raise InputError("not a regular file", file=str(path))
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read the file ({exc.strerror or type(exc).__name__})",
                         file=str(path)) from None
    if not data.strip():
        raise InputError("the file is empty", file=str(path))
    if data[:4] == b"PAR1" or path.suffix.lower() == ".parquet":
        frame, headers, used = _read_parquet(path, kind)
        reader_q = quarantine_frame()
    elif _looks_binary(data[:_SNIFF]):
        raise InputError("binary content (NUL bytes): not a CSV export (UTF-16 is not supported)",
                         file=str(path))
    else:
        frame, headers, reader_q, used = _read_csv(path, data, encoding)
    return _to_canonical(path, frame, headers, reader_q, used, kind)


def _looks_binary(head: bytes) -> bool:
    """UTF-16/32 (a BOM, or NULs beside most ASCII characters) or binary: NULs make up at
    least 1 % of the first 64 KiB (and 16 bytes). A few NULs in fields are a row's problem
    (the ``control_characters`` rule), not the file's."""
    if head.startswith(_UTF16_32_BOMS):
        return True
    nuls = head.count(0)
    return nuls >= 16 and nuls >= 0.01 * len(head)


# --- CSV --------------------------------------------------------------------------------
def _decode(path: Path, data: bytes, encoding: str | None) -> tuple[str, str, list[int]]:
    """Decode the bytes; returns (text, encoding used, 1-based data rows with bad bytes)."""
    has_bom = data.startswith(_BOM)
    if encoding is not None:
        enc = ENCODING_NAMES.get(encoding.strip().lower())
        if enc is None:
            raise ConfigError(f"unknown encoding {encoding!r}: use utf-8 or cp932")
        candidates = [enc]
    else:
        candidates = ["utf-8"] if has_bom else ["utf-8", "cp932"]
    body = data[len(_BOM):] if has_bom else data
    # blank lines before the header are no part of the table (the header is the first line)
    body = _LEADING_BLANK_LINES.sub(b"", body)
    if b"\n" not in body and b"\r" in body:
        body = body.replace(b"\r", b"\n")  # CR-only line ends (old Mac exports)
    for enc in candidates:
        try:
            return body.decode(enc), ("utf-8-sig" if has_bom and enc == "utf-8" else enc), []
        except UnicodeDecodeError:
            continue
    # no candidate decodes the whole file: decode line by line and keep the least damaged
    best: tuple[str, str, list[int]] | None = None
    lines = body.split(b"\n")
    for enc in candidates:
        bad: list[int] = []
        out: list[str] = []
        for i, line in enumerate(lines):
            try:
                out.append(line.decode(enc))
            except UnicodeDecodeError:
                bad.append(i)
                out.append(line.decode(enc, errors="replace"))
        if best is None or len(bad) < len(best[2]):
            best = ("\n".join(out), enc, bad)
    assert best is not None
    text, enc, bad_lines = best
    data_lines = max(1, sum(1 for line in lines[1:] if line.strip()))
    names = " or ".join(c.upper() for c in candidates)
    if bad_lines and bad_lines[0] == 0:
        raise InputError(f"the header is not valid {names}", file=str(path), row=None)
    if len(bad_lines) > max(MAX_BAD_LINES_ANY, MAX_BAD_LINE_FRACTION * data_lines):
        raise InputError(
            f"not decodable as {names} ({len(bad_lines)} of {data_lines} rows have invalid bytes;"
            f" first at row {bad_lines[0]}); give --encoding if you know it",
            file=str(path),
        )
    # line i (0 = header) is data row i as long as no quoted field spans lines
    return text, enc, bad_lines


def _read_csv(path: Path, data: bytes,
              encoding: str | None) -> tuple[pl.DataFrame, list[str], pl.DataFrame, str]:
    """(frame with row + positional columns c0.., header names, reader quarantine, encoding)."""
    text, used, bad_rows = _decode(path, data, encoding)
    raw = text.encode("utf-8")
    first_line = text.split("\n", 1)[0].rstrip("\r")
    try:
        # tab-separated exports exist too: a header with tabs and no commas is TSV
        separator = "\t" if "\t" in first_line and "," not in first_line else ","
        header = next(csv.reader([first_line], delimiter=separator))
    except (csv.Error, StopIteration):
        raise InputError("cannot parse the CSV header", file=str(path)) from None
    if not header:
        raise InputError("no header line", file=str(path))
    names = [f"c{i}" for i in range(len(header))] + [_EXTRA_FIELD]
    try:
        frame = pl.read_csv(
            raw, has_header=False, skip_rows=1, infer_schema=False, separator=separator,
            schema=dict.fromkeys(names, pl.Utf8), truncate_ragged_lines=True,
            empty_string_is_null=False, missing_columns="insert",
        )
    except READ_ERRORS as exc:
        raise InputError(f"malformed CSV ({type(exc).__name__}: unbalanced quotes?)",
                         file=str(path)) from None
    # a blank line (empty, or only blanks and separators) is no row; keep numbering by
    # position in the file
    frame = frame.with_row_index("row", offset=1).with_columns(pl.col("row").cast(pl.UInt32))
    blank = pl.all_horizontal(
        pl.col(n).is_null() | (pl.col(n).str.strip_chars(_BLANK_TEXT) == "") for n in names)
    frame = frame.filter(~blank)
    q_rows: list[int] = []
    q_fields: list[str] = []
    q_reasons: list[str] = []
    # polars cannot tell a short row from trailing blanks: required-field rules catch those
    extra = frame.filter(pl.col(_EXTRA_FIELD).is_not_null() & (pl.col(_EXTRA_FIELD) != ""))["row"].to_list()
    for r in extra:
        q_rows.append(r)
        q_fields.append("*")
        q_reasons.append("row_field_count: the row has more fields than the header")
    present = set(frame["row"].to_list()) if bad_rows else set()
    for r in bad_rows:
        if r in present:
            q_rows.append(r)
            q_fields.append("*")
            q_reasons.append(f"text_encoding: the row has bytes that are not valid {used.upper()}")
    frame = frame.drop(_EXTRA_FIELD)
    frame = frame.with_columns(
        pl.when(pl.col(c) == "").then(None).otherwise(pl.col(c)).alias(c) for c in names[:-1]
    )
    return frame, header, quarantine_frame(q_rows, q_fields, q_reasons), used


# --- Parquet ---------------------------------------------------------------------------
#: codes with a fixed width: an integer Parquet column lost their leading zeros, which are
#: put back (docs/domain.md#register-input-limits); household ids have no fixed width
CODE_WIDTHS: dict[str, int] = {"resident_code": 11, "postal_code": 7, "my_number": 12}
#: columns that hold dates: Date and Datetime (any unit; a zoned one read in Japan time) allowed
DATE_COLUMNS: frozenset[str] = frozenset({"date_of_birth", "event_date"})
_TEXT_TYPES = (pl.Utf8, pl.Categorical, pl.Enum, pl.Null)


def _parquet_column(path: Path, name: str, canon: str, dtype: pl.DataType) -> pl.Expr:
    """How one canonical column of a Parquet file becomes text, or an InputError naming its type.

    - text (String, Categorical, Enum, all-null): as is;
    - Date, Datetime (any unit; with a zone: the day in Japan time): ISO yyyy-mm-dd;
    - integers: as decimal text; for the fixed-width codes (``CODE_WIDTHS``) zero-padded
      to the width, since an integer column cannot keep the leading zeros of 01234567890;
    - booleans and, outside codes, floats and decimals: as text (the rules judge them);
    - float or decimal codes: refused (digits may already be lost: 12-digit numbers in a
      float64 are exact, but the export that wrote them cannot be trusted to have kept them);
    - anything else (lists, structs, binary, times, durations): refused.
    """
    col = pl.col(name)
    type_name = str(dtype)
    if isinstance(dtype, _TEXT_TYPES) or dtype in _TEXT_TYPES:
        return col.cast(pl.Utf8)
    if dtype == pl.Date:
        return col.dt.strftime("%Y-%m-%d")
    if isinstance(dtype, pl.Datetime):
        if dtype.time_zone is not None:
            col = col.dt.convert_time_zone("Asia/Tokyo")
        return col.dt.date().dt.strftime("%Y-%m-%d")
    if dtype.is_integer():
        text = col.cast(pl.Utf8)
        if canon in CODE_WIDTHS:
            text = text.str.zfill(CODE_WIDTHS[canon])
        return text
    if dtype == pl.Boolean:
        return col.cast(pl.Utf8)
    if (dtype.is_float() or isinstance(dtype, pl.Decimal)) and canon not in CODE_WIDTHS \
            and canon not in DATE_COLUMNS:
        return col.cast(pl.Utf8)
    raise InputError(
        f"column {canon} is of Parquet type {type_name}: use text"
        + (", Date or Datetime" if canon in DATE_COLUMNS else "")
        + (" or an integer type" if canon in CODE_WIDTHS else ""),
        file=str(path), field=canon,
    )


def _read_parquet(path: Path, kind: str) -> tuple[pl.DataFrame, list[str], str]:
    """(frame with row + positional columns c0.. for canonical columns only, names, "parquet").

    Columns that map to no canonical name are never read: whatever their type, they are
    only named in ``ignored_columns``.
    """
    try:
        schema = pl.read_parquet_schema(path)
    except READ_ERRORS as exc:
        raise InputError(f"not a readable Parquet file ({type(exc).__name__})", file=str(path)) from None
    headers = list(schema)
    mapped = {i: canonical_header(n) for i, n in enumerate(headers)}
    wanted = [headers[i] for i, c in mapped.items() if c is not None]
    exprs = [
        _parquet_column(path, headers[i], c, schema[headers[i]]).alias(f"c{i}")
        for i, c in mapped.items() if c is not None
    ]
    if not wanted:  # _to_canonical says which columns are missing
        return pl.DataFrame({"row": pl.Series([], dtype=pl.UInt32)}), headers, "parquet"
    try:
        frame = pl.read_parquet(path, columns=wanted).select(exprs)
    except READ_ERRORS as exc:
        raise InputError(f"not a readable Parquet file ({type(exc).__name__})", file=str(path)) from None
    frame = frame.with_row_index("row", offset=1).with_columns(pl.col("row").cast(pl.UInt32))
    frame = frame.with_columns(
        pl.when(pl.col(c) == "").then(None).otherwise(pl.col(c)).alias(c)
        for c in frame.columns if c != "row"
    )
    return frame, headers, "parquet"


# --- header mapping ---------------------------------------------------------------------
def _to_canonical(path: Path, frame: pl.DataFrame, headers: list[str], reader_q: pl.DataFrame,
                  used: str, kind: str) -> ReadResult:
    """Map positional columns c0.. to canonical names by their header; others are ignored."""
    mapping: dict[str, str] = {}
    ignored: list[str] = []
    for i, name in enumerate(headers):
        canon = canonical_header(name)
        if canon is None:
            ignored.append(name)
        elif canon in mapping.values():
            twice = headers.count(name) > 1
            raise InputError(f"the header names {canon} twice" if twice else f"two columns map to {canon}",
                             file=str(path), field=canon)
        else:
            mapping[f"c{i}"] = canon
    required = REQUIRED_EVENTS if kind == "events" else REQUIRED_REGISTER
    missing = [c for c in required if c not in mapping.values()]
    if len(missing) == len(required):
        raise InputError("no register columns in the header (expected resident_code or 住民票コード, ...)",
                         file=str(path))
    if missing:
        raise InputError(f"required column(s) absent: {', '.join(missing)}", file=str(path),
                         field=missing[0])
    if frame.height == 0 and kind == "register":
        raise InputError("the file has a header but no data rows", file=str(path))
    frame = frame.select("row", *mapping).rename(mapping)
    wanted = list(required) + list(OPTIONAL_REGISTER)
    frame = frame.with_columns(
        pl.lit(None, dtype=pl.Utf8).alias(c) for c in wanted if c not in frame.columns
    ).select(["row", *wanted])
    return ReadResult(frame=frame, quarantine=reader_q, encoding=used, ignored_columns=ignored)
