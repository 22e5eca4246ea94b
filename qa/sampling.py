"""Acceptance sampling for QR decoding: which member pages get rendered and decoded.

Decoding a QR code means rasterising the page, the costly part of QA, so inside the bulk
flow only a simple random sample of member pages is decoded (``mynumber qa --full`` decodes
all). The plan is a single-sampling plan with acceptance number c = 0: the batch passes the
QR check only if no sampled page fails. It is recorded in qa.json with its strength: the
smallest defect count that the sample would catch with at least 95 % probability
(exact hypergeometric, since a batch is a small finite lot), as a fraction of the lot.

The sample is seeded by ``seed`` *and* the batch id, so every batch gets a different but
reproducible sample: the same (seed, batch) always picks the same pages.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from typing import Any

import numpy as np

CONFIDENCE = 0.95


@dataclass(frozen=True)
class SamplingPlan:
    """A drawn sample of member pages and how strong it is."""

    population: int
    sample_size: int
    seed: int
    batch_id: str
    full: bool
    pages: tuple[int, ...]
    acceptance_number: int = 0

    def detectable_defects(self, confidence: float = CONFIDENCE) -> int:
        """Smallest number of bad pages in the lot found with probability ≥ confidence."""
        return detectable_defects(self.population, self.sample_size, confidence)

    def summary(self) -> dict[str, Any]:
        """JSON-ready record for qa.json (page numbers are not personal data)."""
        d = self.detectable_defects()
        return {
            "method": "full" if self.full else "simple random sample without replacement",
            "population": self.population,
            "sample_size": self.sample_size,
            "pages_chosen": len(self.pages),
            "seed": self.seed,
            "batch_id": self.batch_id,
            "acceptance_number": self.acceptance_number,
            "confidence": CONFIDENCE,
            "detectable_defects": d,
            "detectable_defect_rate": round(d / self.population, 6) if self.population else 0.0,
            "pages": list(self.pages),
        }


def detectable_defects(population: int, sample_size: int, confidence: float = CONFIDENCE) -> int:
    """Smallest D with P(no defect among ``sample_size`` of ``population`` | D defects) ≤ 1-conf.

    P(0 | D) = Π_{i<n} (N-D-i)/(N-i), the hypergeometric zero term; 0 when the lot is empty.
    """
    n, big_n = sample_size, population
    if big_n == 0:
        return 0
    if n == 0:
        return big_n + 1  # nothing can be detected
    i = np.arange(n, dtype=np.float64)
    for d in range(1, big_n + 1):
        if big_n - d < n:
            return d  # every sample contains a defect
        p0 = float(np.exp(np.sum(np.log((big_n - d - i) / (big_n - i)))))
        if p0 <= 1.0 - confidence:
            return d
    return big_n


def seeded_rng(seed: int, batch_id: str) -> np.random.Generator:
    """Generator keyed on (seed, batch id): reproducible and different per batch."""
    return np.random.default_rng([int(seed), zlib.crc32(batch_id.encode("utf-8"))])


def draw_sample(member_pages: list[int], sample_size: int, *, seed: int, batch_id: str,
                full: bool = False) -> SamplingPlan:
    """Choose the member pages whose QR codes get decoded (all of them when ``full``)."""
    population = len(member_pages)
    if full or sample_size >= population:
        chosen = sorted(member_pages)
        size = population
    else:
        size = max(0, int(sample_size))
        idx = seeded_rng(seed, batch_id).choice(population, size=size, replace=False)
        chosen = sorted(member_pages[i] for i in idx.tolist())
    return SamplingPlan(population=population, sample_size=size, seed=seed, batch_id=batch_id,
                        full=full or size == population, pages=tuple(chosen))
