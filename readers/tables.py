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
Errors name the file, row and field, never a value.
"""

from __future__ import annotations

import csv
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

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

_BOM = b"\xef\xbb\xbf"
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
        pass
    elif b"\x00" in data[:65536]:
        raise InputError("binary content (NUL bytes): not a CSV export (UTF-16 is not supported)",
                         file=str(path))
    if data[:4] == b"PAR1" or path.suffix.lower() == ".parquet":
        frame, used = _read_parquet(path), "parquet"
        reader_q = quarantine_frame()
    else:
        frame, reader_q, used = _read_csv(path, data, encoding)
    return _to_canonical(path, frame, reader_q, used, kind)


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


def _read_csv(path: Path, data: bytes, encoding: str | None) -> tuple[pl.DataFrame, pl.DataFrame, str]:
    text, used, bad_rows = _decode(path, data, encoding)
    raw = text.encode("utf-8")
    first_line = text.lstrip("\r\n").split("\n", 1)[0].rstrip("\r")
    try:
        # tab-separated exports exist too: a header with tabs and no commas is TSV
        separator = "\t" if "\t" in first_line and "," not in first_line else ","
        header = next(csv.reader([first_line], delimiter=separator))
    except (csv.Error, StopIteration):
        raise InputError("cannot parse the CSV header", file=str(path)) from None
    if not header:
        raise InputError("no header line", file=str(path))
    # keep every header distinct (two spellings of one column are caught when mapping)
    seen: dict[str, int] = {}
    for i, name in enumerate(header):
        if name in seen:
            canon = canonical_header(name)
            raise InputError(f"the header names {canon or 'a column'} twice", file=str(path),
                             field=canon)
        seen[name] = i
    names = [f"c{i}" for i in range(len(header))] + [_EXTRA_FIELD]
    try:
        frame = pl.read_csv(
            raw, has_header=False, skip_rows=1, infer_schema=False, separator=separator,
            schema=dict.fromkeys(names, pl.Utf8), truncate_ragged_lines=True,
            empty_string_is_null=False, missing_columns="insert",
        )
    except Exception as exc:
        raise InputError(f"malformed CSV ({type(exc).__name__}: unbalanced quotes?)",
                         file=str(path)) from None
    # a whole-blank line (e.g. trailing) is no row; keep numbering by position in the file
    frame = frame.with_row_index("row", offset=1).with_columns(pl.col("row").cast(pl.UInt32))
    blank = pl.all_horizontal(pl.col(n).is_null() | (pl.col(n) == "") for n in names)
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
    frame = frame.drop(_EXTRA_FIELD).rename({f"c{i}": h for i, h in enumerate(header)})
    frame = frame.with_columns(
        pl.when(pl.col(h) == "").then(None).otherwise(pl.col(h)).alias(h) for h in header
    )
    return frame, quarantine_frame(q_rows, q_fields, q_reasons), used


# --- Parquet ----------------------------------------------------------------------------
def _read_parquet(path: Path) -> pl.DataFrame:
    try:
        frame = pl.read_parquet(path)
    except Exception as exc:
        raise InputError(f"not a readable Parquet file ({type(exc).__name__})", file=str(path)) from None
    casts = []
    for name, dtype in frame.schema.items():
        if dtype == pl.Date:
            casts.append(pl.col(name).dt.strftime("%Y-%m-%d"))
        elif dtype == pl.Utf8:
            casts.append(pl.col(name))
        else:
            casts.append(pl.col(name).cast(pl.Utf8, strict=False))
    frame = frame.select(casts)
    frame = frame.with_row_index("row", offset=1).with_columns(pl.col("row").cast(pl.UInt32))
    return frame.with_columns(
        pl.when(pl.col(c) == "").then(None).otherwise(pl.col(c)).alias(c)
        for c in frame.columns if c != "row"
    )


# --- header mapping ---------------------------------------------------------------------
def _to_canonical(path: Path, frame: pl.DataFrame, reader_q: pl.DataFrame, used: str,
                  kind: str) -> ReadResult:
    mapping: dict[str, str] = {}
    ignored: list[str] = []
    for name in frame.columns:
        if name == "row":
            continue
        canon = canonical_header(name)
        if canon is None:
            ignored.append(name)
        elif canon in mapping.values():
            raise InputError(f"two columns map to {canon}", file=str(path), field=canon)
        else:
            mapping[name] = canon
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
    frame = frame.rename(mapping)
    wanted = list(required) + list(OPTIONAL_REGISTER)
    frame = frame.with_columns(
        pl.lit(None, dtype=pl.Utf8).alias(c) for c in wanted if c not in frame.columns
    ).select(["row", *wanted])
    return ReadResult(frame=frame, quarantine=reader_q, encoding=used, ignored_columns=ignored)
