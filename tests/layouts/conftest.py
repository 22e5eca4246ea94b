"""One rendered demo batch shared by the layout tests (rendering is the slow part).

The plan is the seeded sample plus the cases a real register brings: a member the plan
already sends separately, a member whose name carries an ideographic variation sequence
(the renderer must divert them), a household id that a spreadsheet would run as a
formula, a catch-all postcode without customer barcode.
"""

from __future__ import annotations

import polars as pl
import pypdfium2 as pdfium
import pytest

from layouts.batch import PrintSettings, write_batch
from tests.helpers.layout_pages import RenderedBatch, sample_plan


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


