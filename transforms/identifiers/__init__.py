"""Identifiers of the domain, one module each, after python-stdnum's shape.

Each module (`my_number`, `resident_code`, `lg_code`, `registered_mail`, `application_id`)
has ``compact``, ``calc_check_digit``, ``validate`` (returns the compact form; checks the
length, then ASCII 0-9, then the checksum, raising `core.errors.InvalidLength`,
`InvalidFormat` or `InvalidChecksum`; `TypeError` only for a value that is not a ``str``),
``is_valid`` and ``format``, with vectorised variants beside them.

This package module holds the small helpers they share: strict ASCII-digit checks (``str``'s
``isdigit`` and ``int`` accept full-width and superscript digits, which are never valid here)
and the conversion of a polars string Series into a ``uint8`` digit matrix through Arrow's
string buffers, with no per-element Python.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, cast

import numpy as np
import numpy.typing as npt
import polars as pl
import pyarrow as pa

from core.errors import InvalidChecksum, InvalidFormat, InvalidLength, ValidationError

#: the characters `compact` removes anywhere in a value (ASCII space and hyphen)
SEPARATORS = " -"


# --- scalar helpers ----------------------------------------------------------------------
def require_str(value: object) -> str:
    """Return ``value`` if it is a ``str``; `TypeError` (naming only the type) otherwise."""
    if not isinstance(value, str):
        raise TypeError(f"expected str, got {type(value).__name__}")
    return value


def clean(value: object, separators: str = SEPARATORS) -> str:
    """Remove the separator characters and surrounding whitespace (the ``compact`` step)."""
    text = require_str(value)
    if separators:
        text = text.translate({ord(c): None for c in separators})
    return text.strip()


def is_ascii_digits(text: str) -> bool:
    """True when ``text`` is non-empty and only ASCII ``0``-``9`` (not ``３``, not ``²``)."""
    return bool(text) and text.isascii() and text.isdigit()


def check_digits_only(text: str, length: int, what: str) -> str:
    """Raise `InvalidLength` or `InvalidFormat` (in that order) unless ``text`` is
    ``length`` ASCII digits. Messages name the identifier and the rule, never the value."""
    if len(text) != length:
        raise InvalidLength(f"{what}: expected {length} digits, got {len(text)} characters")
    if not is_ascii_digits(text):
        raise InvalidFormat(f"{what}: only ASCII digits 0-9 are allowed")
    return text


def check_with_digit(text: str, length: int, what: str, calc: Callable[[str], str]) -> str:
    """stdnum's validate order over a compact value: length, ASCII digits, then the check
    digit ``calc`` gives for all but the last digit. One definition for every identifier."""
    text = check_digits_only(text, length, what)
    if calc(text[:-1]) != text[-1]:
        raise InvalidChecksum(f"{what}: the check digit does not match")
    return text


def passes(validate: Callable[[str], object], value: object) -> bool:
    """``is_valid`` for any validator: a wrong type or a wrong value is simply False."""
    if not isinstance(value, str):  # validators raise TypeError for it: not valid
        return False
    try:
        return bool(validate(value))
    except (ValidationError, TypeError):
        return False


def weighted_sum(digits: str, weights: Sequence[int]) -> int:
    """Sum of digit × weight, pairing from the left (``len(digits) == len(weights)``)."""
    return sum(w * (ord(c) - 48) for w, c in zip(weights, digits, strict=True))


# --- vectorised helpers -------------------------------------------------------------------
def as_string_series(values: object, name: str = "") -> pl.Series:
    """A polars String Series from a Series or anything polars turns into one.

    Null-only input becomes a String Series of nulls; categoricals are cast to strings;
    any other dtype is a `TypeError` (identifiers are strings: integers lose leading zeros).
    """
    if isinstance(values, pl.Series):
        series = values
    else:
        try:
            # any object is tried: what polars cannot convert is refused just below
            series = pl.Series(name, cast("Iterable[Any] | None", values))
        except Exception:  # polars' message may quote a value: do not pass it on
            raise TypeError("expected strings: cannot build a Series from the input") from None
    dtype = series.dtype
    if dtype == pl.Null or isinstance(dtype, (pl.Categorical, pl.Enum)):
        series = series.cast(pl.String)
    elif dtype != pl.String:
        raise TypeError(f"expected a Series of strings, got dtype {dtype}")
    return series


def _single_array(series: pl.Series) -> pa.Array:
    arr = series.to_arrow(compat_level=pl.CompatLevel.newest())
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks() if arr.num_chunks != 1 else arr.chunk(0)
    return arr


def validity_mask(arr: pa.Array) -> npt.NDArray[np.bool_]:
    """Boolean numpy mask, True where the Arrow value is not null."""
    if arr.null_count == 0:
        return np.ones(len(arr), dtype=bool)
    # pyarrow is untyped; a BooleanArray converts to a bool ndarray
    return cast("npt.NDArray[np.bool_]", arr.is_valid().to_numpy(zero_copy_only=False))


def string_view_matrix(arr: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """For an Arrow ``string_view`` array: its 16-byte views as an (N, 16) ``uint8`` matrix
    (zero-copy, read-only) and the byte lengths as ``int32``.

    Strings of at most 12 bytes are stored inline in bytes 4..15 of their view, so for short
    identifiers the digits are read straight from this matrix.
    """
    n, offset = len(arr), arr.offset
    buf = arr.buffers()[1]
    views = np.frombuffer(buf, dtype=np.uint8, count=16 * (offset + n))[16 * offset:]
    views = views.reshape(n, 16)
    lengths = np.frombuffer(buf, dtype="<i4", count=4 * (offset + n))[4 * offset::4]
    return views, lengths


def digit_matrix(values: object, width: int) -> tuple[np.ndarray, np.ndarray]:
    """Turn strings into an (N, ``width``) ``uint8`` matrix of digit values 0-9.

    Returns ``(digits, ok)``: ``ok[i]`` is True when value *i* is not null, has exactly
    ``width`` bytes and all of them are ASCII ``0``-``9``; rows that are not ok hold
    unspecified digits. No separators are removed (vectorised inputs are compact).
    """
    series = as_string_series(values)
    n = len(series)
    if n == 0:
        return np.zeros((0, width), dtype=np.uint8), np.zeros(0, dtype=bool)
    arr = _single_array(series)
    valid = validity_mask(arr)
    if width <= 12:
        views, lengths = string_view_matrix(arr)
        digits = views[:, 4:4 + width] - np.uint8(48)
        ok = valid & (lengths == width)
    else:
        large = arr.cast(pa.large_string())
        offsets = np.frombuffer(large.buffers()[1], dtype=np.int64,
                                count=large.offset + n + 1)[large.offset:]
        data_buf = large.buffers()[2]
        data = (np.frombuffer(data_buf, dtype=np.uint8) if data_buf is not None
                else np.zeros(0, dtype=np.uint8))
        ok = valid & (np.diff(offsets) == width)
        starts = np.where(ok, offsets[:-1], 0)
        if data.size < width:  # every row is too short: nothing to gather
            data = np.zeros(width, dtype=np.uint8)
        digits = data[starts[:, None] + np.arange(width)] - np.uint8(48)
    ok &= (digits < 10).all(axis=1)
    return np.where(ok[:, None], digits, np.uint8(0)), ok


def uint_to_digits(values: np.ndarray, width: int) -> np.ndarray:
    """Unsigned integers (< 10**width, width <= 19) → (N, width) ``uint8`` digit values."""
    rest = np.asarray(values, dtype=np.uint64).copy()
    out = np.empty((rest.shape[0], width), dtype=np.uint8)
    ten = np.uint64(10)
    for k in range(width - 1, -1, -1):
        quotient = rest // ten
        out[:, k] = rest - quotient * ten
        rest = quotient
    if rest.any():
        raise InvalidLength(f"a value has more than {width} digits")
    return out


def ascii_matrix_to_series(ascii_bytes: np.ndarray, name: str = "",
                           valid: np.ndarray | None = None) -> pl.Series:
    """An (N, w) ``uint8`` matrix of ASCII bytes → a polars String Series, built from Arrow
    buffers (string views for w <= 12, offsets + one data buffer otherwise)."""
    mat = np.ascontiguousarray(ascii_bytes, dtype=np.uint8)
    n, width = mat.shape
    validity = None
    if valid is not None and not valid.all():
        validity = pa.py_buffer(np.packbits(valid, bitorder="little"))
    if width <= 12:
        views = np.zeros((n, 16), dtype=np.uint8)
        views[:, 0:4] = np.frombuffer(np.int32(width).tobytes(), dtype=np.uint8)
        views[:, 4:4 + width] = mat
        arr = pa.Array.from_buffers(pa.string_view(), n, [validity, pa.py_buffer(views)])
    else:
        offsets = np.arange(0, width * n + 1, width, dtype=np.int64)
        arr = pa.Array.from_buffers(pa.large_string(), n,
                                    [validity, pa.py_buffer(offsets), pa.py_buffer(mat)])
    series = pl.from_arrow(arr)
    assert isinstance(series, pl.Series)
    return series.alias(name)


def valid_by_check_digits(values: object, length: int,
                          calc_check_digits: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    """Numpy booleans: which values are ``length`` ASCII digits whose last digit is the check
    digit ``calc_check_digits`` gives for the others (compact form; null → False)."""
    digits, ok = digit_matrix(values, length)
    if digits.shape[0]:
        ok &= calc_check_digits(digits[:, :length - 1]) == digits[:, length - 1]
    return ok


def boolean_series(values: object, mask: np.ndarray) -> pl.Series:
    """``mask`` as a Boolean Series named after ``values`` (``is_valid`` for a plain list)."""
    name = values.name if isinstance(values, pl.Series) else "is_valid"
    return pl.Series(name, mask, dtype=pl.Boolean)


def describe_bad_rows(what: str, ok_length: np.ndarray, ok_format: np.ndarray,
                      valid: np.ndarray | None = None, offset: int = 0) -> None:
    """Raise `InvalidLength`/`InvalidFormat` naming the first bad position and the counts.

    ``ok_length``/``ok_format`` are per-row booleans; ``valid`` marks non-null rows (nulls
    count as a format problem); ``offset`` is the position of row 0 in a longer stream.
    Never mentions a value. Returns when every row is fine.
    """
    n = ok_length.shape[0]
    nulls = np.zeros(n, dtype=bool) if valid is None else ~valid
    bad_len = ~ok_length & ~nulls
    bad_fmt = (~ok_format & ok_length & ~nulls) | nulls
    n_len, n_fmt, n_null = int(bad_len.sum()), int(bad_fmt.sum()), int(nulls.sum())
    if not (n_len or n_fmt):
        return
    parts = []
    if n_len:
        parts.append(f"{n_len} with the wrong length")
    if n_fmt - n_null:
        parts.append(f"{n_fmt - n_null} with characters other than ASCII 0-9")
    if n_null:
        parts.append(f"{n_null} null")
    bad = bad_len | bad_fmt
    first = offset + int(np.argmax(bad))
    cls = InvalidLength if n_len else InvalidFormat
    scope = f"{n} values" if offset == 0 else f"{n} values from position {offset}"
    exc = cls(f"{what}: {int(bad.sum())} of {scope} are invalid ({', '.join(parts)}); "
              f"first at position {first} (0-based)")
    exc.first_position = first
    exc.bad_count = int(bad.sum())
    raise exc


from transforms.identifiers import (  # noqa: E402  (submodules use the helpers above)
    application_id,
    lg_code,
    my_number,
    registered_mail,
    resident_code,
)
from transforms.identifiers.my_number import (  # noqa: E402
    is_valid_my_number,
    my_number_check_digit,
)

__all__ = [
    "application_id", "lg_code", "my_number", "registered_mail", "resident_code",
    "is_valid_my_number", "my_number_check_digit",
]
