"""Acceptance-sampling plan: reproducible, per-batch, recorded with its strength."""

from __future__ import annotations

from math import comb

import pytest

from qa.sampling import detectable_defects, draw_sample


def test_sample_is_reproducible_and_differs_per_batch():
    pages = list(range(2, 2002))
    a = draw_sample(pages, 50, seed=0, batch_id="B00001")
    assert a == draw_sample(pages, 50, seed=0, batch_id="B00001")
    assert a.pages != draw_sample(pages, 50, seed=0, batch_id="B00002").pages
    assert a.pages != draw_sample(pages, 50, seed=1, batch_id="B00001").pages
    assert len(set(a.pages)) == 50 and set(a.pages) <= set(pages)
    assert list(a.pages) == sorted(a.pages)
    summary = a.summary()
    assert summary["population"] == 2000 and summary["sample_size"] == 50
    assert summary["pages_chosen"] == 50 and summary["seed"] == 0


def test_full_and_small_populations_take_everything():
    pages = [2, 3, 5]
    assert draw_sample(pages, 50, seed=0, batch_id="B").pages == (2, 3, 5)
    full = draw_sample(list(range(100)), 5, seed=0, batch_id="B", full=True)
    assert full.pages == tuple(range(100)) and full.summary()["method"] == "full"
    assert draw_sample([], 50, seed=0, batch_id="B").summary()["population"] == 0


@pytest.mark.parametrize("population,n", [(100, 10), (2000, 50), (60, 59), (10, 1)])
def test_detectable_defects_matches_exact_hypergeometric(population, n):
    d = detectable_defects(population, n)
    p0 = lambda k: comb(population - k, n) / comb(population, n)  # noqa: E731
    assert p0(d) <= 0.05 < p0(d - 1) or (d == 1 and p0(1) <= 0.05)


def test_full_inspection_detects_one_defect():
    assert detectable_defects(500, 500) == 1
    assert detectable_defects(0, 0) == 0
