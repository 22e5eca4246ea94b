"""Spreadsheet neutralising: the start of a cell and of every ';' part, and an exact inverse."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from transforms.csv_cells import TRIGGERS, join_list_cell, neutralise_cell, unneutralise_cell


@pytest.mark.parametrize("cell, expected", [
    ("=1+1", "'=1+1"), ("練馬", "練馬"), ("1=1", "1=1"), ("", ""),
    ("山本 紬;山本 =cmd|' /C calc'!A0", "山本 紬;山本 =cmd|' /C calc'!A0"),
    ("山本 紬;=cmd|' /C calc'!A0", "山本 紬;'=cmd|' /C calc'!A0"),
    ("+81;-2;@SUM;\tx", "'+81;'-2;'@SUM;'\tx"),
    ("'=already", "''=already"), (" =1+1", "' =1+1"), ("山本 紬;\u3000=cmd", "山本 紬;'\u3000=cmd"),
])
def test_neutralise_cell(cell: str, expected: str) -> None:
    assert neutralise_cell(cell) == expected
    assert unneutralise_cell(expected) == cell


def test_joined_list_neutralises_every_item() -> None:
    cell = join_list_cell(["山本 紬", "=cmd|' /C calc'!A0", None, "-1"])
    assert cell == "山本 紬;'=cmd|' /C calc'!A0;;'-1"
    assert not any(part.startswith(TRIGGERS) for part in cell.split(";"))


@given(st.text(alphabet=st.sampled_from(list("=+-@\t\r';a山 \u3000")), max_size=20))
def test_no_part_starts_a_formula_and_the_text_comes_back(text: str) -> None:
    cell = neutralise_cell(text)
    assert not any(part.lstrip(" ").startswith(TRIGGERS) for part in cell.split(";"))
    assert unneutralise_cell(cell) == text
