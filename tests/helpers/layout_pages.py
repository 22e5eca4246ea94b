"""Helpers for layout tests: the sample plan with its hostile cases, and cropping rendered pages."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import polars as pl
import pypdfium2 as pdfium

from layouts.batch import BatchResult, PrintSettings
from layouts.samples import CATCH_ALL, demo_plan
from layouts.spec import DEFAULT_SPEC

PT_PER_MM = 72 / 25.4
IVS_NAME = "葛\U000E0100子"
INJECTION_HOUSEHOLD = "=HYPERLINK(1)"


@dataclass
class RenderedBatch:
    dir: Path
    plan: pl.DataFrame
    numbers: pl.DataFrame
    settings: PrintSettings
    result: BatchResult
    manifest: pl.DataFrame
    texts: list[str]

    def pdf(self) -> pdfium.PdfDocument:
        return pdfium.PdfDocument(str(self.dir / "cards.pdf"))


def sample_plan() -> tuple[pl.DataFrame, pl.DataFrame]:
    plan, numbers = demo_plan(30, seed=7, manual_every=6)
    envs = plan["envelope_seq"]
    multi = plan.group_by("envelope_seq").len().filter(pl.col("len") >= 2)["envelope_seq"].sort()
    ivs_env, inj_env = int(multi[1]), int(multi[2])
    plan = plan.with_columns(
        given_name=pl.when((envs == ivs_env) & (pl.col("member_seq") == 2))
        .then(pl.lit(IVS_NAME)).otherwise(pl.col("given_name")),
        household_id=pl.when(envs == inj_env).then(pl.lit(INJECTION_HOUSEHOLD))
        .otherwise(pl.col("household_id")),
        postal_code=pl.when(envs == 1).then(pl.lit(CATCH_ALL)).otherwise(pl.col("postal_code")),
    )
    return plan, numbers


def render_region(doc: pdfium.PdfDocument, index: int, x: float, y: float, w: float, h: float,
                  dpi: float):
    """PIL image of a region given in mm from the page's top-left."""
    spec = DEFAULT_SPEC
    crop = (x * PT_PER_MM, (spec.page_height - y - h) * PT_PER_MM,
            (spec.page_width - x - w) * PT_PER_MM, y * PT_PER_MM)
    return doc[index].render(scale=dpi / 72, crop=crop).to_pil()
