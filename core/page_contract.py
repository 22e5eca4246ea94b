"""The page contract as data (core/page_contract.toml), read by layouts' tests and by QA.

It lives in core so both may import it: QA never imports the drawing code, yet cannot
drift from it, because a test compares layouts.spec with this same file.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources

Box = tuple[float, float, float, float]


@dataclass(frozen=True)
class PageContract:
    page_mm: tuple[float, float]
    page_edge_mm: float
    window_mm: Box
    sender_mm: Box
    card_mm: Box
    min_window_pt: float
    min_text_pt: float
    watermark_pt: float


def _box(values: list[float]) -> Box:
    x, y, w, h = (float(v) for v in values)
    return (x, y, w, h)


@cache
def page_contract() -> PageContract:
    """The contract, parsed once from the package data file."""
    raw = tomllib.loads(resources.files("core").joinpath("page_contract.toml").read_text("utf-8"))
    width, height = (float(v) for v in raw["page_mm"])
    return PageContract(
        page_mm=(width, height), page_edge_mm=float(raw["page_edge_mm"]),
        window_mm=_box(raw["window_mm"]), sender_mm=_box(raw["sender_mm"]),
        card_mm=_box(raw["card_mm"]), min_window_pt=float(raw["min_window_pt"]),
        min_text_pt=float(raw["min_text_pt"]), watermark_pt=float(raw["watermark_pt"]))
