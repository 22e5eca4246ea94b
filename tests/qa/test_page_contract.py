"""The page contract file is what layouts draws to and what QA checks: neither can drift."""

from __future__ import annotations

from dataclasses import astuple

import pytest

from core.page_contract import page_contract
from layouts.spec import DEFAULT_SPEC, MIN_PRINT_PT, MIN_WINDOW_PT
from qa import checks

C = page_contract()


def test_layouts_spec_equals_the_contract() -> None:
    a, m = DEFAULT_SPEC.address, DEFAULT_SPEC.member
    assert (DEFAULT_SPEC.page_width, DEFAULT_SPEC.page_height) == C.page_mm
    assert astuple(a.window) == C.window_mm
    assert astuple(a.sender) == C.sender_mm
    assert astuple(m.card) == pytest.approx(C.card_mm, abs=1e-9)
    assert MIN_WINDOW_PT == C.min_window_pt
    assert MIN_PRINT_PT == C.min_text_pt


def test_qa_checks_read_the_contract() -> None:
    assert checks.PAGE_MM == C.page_mm and checks.WINDOW_MM == C.window_mm
    assert checks.FRAMES_MM["address"] == (C.window_mm, C.sender_mm)
    assert checks.FRAMES_MM["member"] == (C.card_mm,)
    assert (checks.MIN_WINDOW_PT, checks.MIN_TEXT_PT, checks.WATERMARK_PT, checks.PAGE_EDGE_MM) == (
        C.min_window_pt, C.min_text_pt, C.watermark_pt, C.page_edge_mm)
