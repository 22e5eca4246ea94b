"""One rendered demo batch shared by the layout tests (rendering is the slow part).

The plan is the seeded sample plus the cases a real register brings: a member the plan
already sends separately, a member whose name carries an ideographic variation sequence
(the renderer must divert them), a household id that a spreadsheet would run as a
formula, a catch-all postcode without customer barcode.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import polars as pl
import pypdfium2 as pdfium
import pytest

from layouts.batch import BatchResult, PrintSettings, write_batch
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


@pytest.fixture(scope="session")
def rendered(tmp_path_factory) -> RenderedBatch:
    out = tmp_path_factory.mktemp("batch") / "B00001"
    plan, numbers = sample_plan()
    settings = PrintSettings(demo=True)
    result = write_batch(out, plan, numbers, settings)
    doc = pdfium.PdfDocument(str(out / "cards.pdf"))
    texts = [doc[i].get_textpage().get_text_range() for i in range(len(doc))]
    doc.close()
    return RenderedBatch(out, plan, numbers, settings, result,
                         pl.read_parquet(out / "manifest.parquet"), texts)


def render_region(doc: pdfium.PdfDocument, index: int, x: float, y: float, w: float, h: float,
                  dpi: float):
    """PIL image of a region given in mm from the page's top-left."""
    spec = DEFAULT_SPEC
    crop = (x * PT_PER_MM, (spec.page_height - y - h) * PT_PER_MM,
            (spec.page_width - x - w) * PT_PER_MM, y * PT_PER_MM)
    return doc[index].render(scale=dpi / 72, crop=crop).to_pil()
