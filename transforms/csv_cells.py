"""Spreadsheet-safe CSV cells: the one place every CSV this program writes is neutralised.

A spreadsheet runs a cell as a formula when it starts with = + - @ (or a tab or CR before
one: OWASP "CSV injection"). Lists are written joined with ``;`` (manifest member names,
codes), and a spreadsheet opened with ``;`` as its separator (common in European locales,
and what "text to columns" offers) splits them again: so not only the start of the cell
but the start of every ``;`` part is neutralised, by a leading ``'``. A part that already
starts with ``'`` gets one more, so that `unneutralise_cell` restores any text exactly.
"""

from __future__ import annotations

from collections.abc import Iterable

#: what makes a spreadsheet read a cell (or a ``;`` part of it) as a formula
TRIGGERS: tuple[str, ...] = ("=", "+", "-", "@", "\t", "\r")
LIST_SEPARATOR = ";"
_QUOTE = "'"


_LEADING_BLANKS = " \u3000"


def _needs_guard(part: str) -> bool:
    """A part a spreadsheet may run (leading blanks are trimmed by some importers), or one
    that starts with the guard itself (so the inverse is exact)."""
    return part.lstrip(_LEADING_BLANKS).startswith(TRIGGERS) or part.startswith(_QUOTE)


def _guard(part: str) -> str:
    return _QUOTE + part if _needs_guard(part) else part


def neutralise_cell(value: str) -> str:
    """Prefix ``'`` to the cell and to every ``;`` part of it that a spreadsheet would run."""
    if not value:
        return value
    return LIST_SEPARATOR.join(_guard(p) for p in value.split(LIST_SEPARATOR))


def join_list_cell(values: Iterable[str | None]) -> str:
    """A list as one neutralised cell (``;``-joined; a null item is an empty part)."""
    return neutralise_cell(LIST_SEPARATOR.join("" if v is None else v for v in values))


def unneutralise_cell(cell: str | None) -> str:
    """The text a neutralised cell was made from (what QA compares with the Parquet)."""
    if not cell:
        return ""
    return LIST_SEPARATOR.join(
        p[1:] if p.startswith(_QUOTE) and _needs_guard(p[1:]) else p
        for p in cell.split(LIST_SEPARATOR)
    )
