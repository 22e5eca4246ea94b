"""Benchmark: print-batch rendering speed, one process and two, against plain reportlab.

    .venv/bin/python bench/render.py [--quick] [--households N] [--repeats R]

Figures (medians of R runs, pages per second, wall clock):
- ``ours x1``: write_batch (PDF + manifests + SHA256SUMS) of a seeded Nerima-like plan
  (address sheet + one sheet per member, ~2.2 members per household) in one process;
- ``ours x2``: the same households split into two batches, one process each (a warmed
  pool, so process start-up is not counted), and the speed-up over x1;
- ``plain``: the same text on the same pages through reportlab's ordinary API
  (drawString per line, furniture redrawn on every page, no QR, barcodes or inserter
  marks; the same PDF/X-4 document set-up) -- the baseline the issue asks for, as wall
  clock and as CPU time (the ratio that survives a shared machine); and ``widget QR`` (plain + reportlab's QrCodeWidget
  recipe on member pages) for context.
The machine may be shared: say so when quoting the figures.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import polars as pl

from layouts.batch import PrintSettings, write_batch
from layouts.document import Document
from layouts.records import households_from_plan
from layouts.samples import demo_plan


class PlainDocument(Document):
    """Same sheets, reportlab's everyday calls: drawString, no forms, no paths."""

    widget_qr = False

    def text(self, x, y, text, size, *, chain=None, anchor="start", max_width=None):
        if not text:
            return
        runs = self.fonts.runs(text) if chain is None else self.fonts.runs(text, chain)
        font = runs[0][0]
        self.c.setFont(font, size)
        xp, yp = self.pt(x), self.y(y)
        if anchor == "middle":
            self.c.drawCentredString(xp, yp, text)
        elif anchor == "end":
            self.c.drawRightString(xp, yp, text)
        else:
            self.c.drawString(xp, yp, text)

    def furniture(self, name, draw):
        draw(self)

    def literal(self, ops):
        pass

    def end_page(self):
        self.c.showPage()       # reportlab formats each page dictionary (no templates)
        self.page_count += 1


def plain_render(households, settings, widget_qr: bool) -> int:
    """Render with PlainDocument; returns pages."""
    import layouts.batch as batch
    import layouts.member_sheet as member_sheet

    real_doc, real_qr = batch.Document, member_sheet.draw_qr

    def widget(canvas, data, x, y_top, size):
        from reportlab.graphics import renderPDF
        from reportlab.graphics.barcode.qr import QrCodeWidget
        from reportlab.graphics.shapes import Drawing

        w = QrCodeWidget(data)
        b = w.getBounds()
        d = Drawing(size, size, transform=[size / (b[2] - b[0]), 0, 0, size / (b[3] - b[1]), 0, 0])
        d.add(w)
        renderPDF.draw(d, canvas, x, y_top - size)

    batch.Document = PlainDocument
    member_sheet.draw_qr = widget if widget_qr else (lambda *a, **k: None)
    try:
        _, ranges = batch.render_pdf(households, settings)
    finally:
        batch.Document, member_sheet.draw_qr = real_doc, real_qr
    return max(last for _, last in ranges if last)


def _ours(args) -> tuple[int, float]:
    """(pages, CPU seconds) of one write_batch in this process."""
    out, plan, numbers = args
    cpu = time.process_time()
    pages = write_batch(out, plan, numbers, PrintSettings()).pages
    return pages, time.process_time() - cpu


def _warm(_=None) -> int:
    PrintSettings().fonts()
    return 0


def timed(fn, repeats: int) -> list[float]:
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return times


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="small smoke run")
    ap.add_argument("--households", type=int, default=None)
    ap.add_argument("--repeats", type=int, default=None)
    ap.add_argument("--no-widget", action="store_true", help="skip the slow widget-QR figure")
    a = ap.parse_args()
    n = a.households or (60 if a.quick else 1000)
    repeats = max(5, a.repeats or 5)
    plan, numbers = demo_plan(n, seed=2015)
    half = int(plan["envelope_seq"].max()) // 2
    parts = [plan.filter(pl.col("envelope_seq") <= half).with_columns(batch_id=pl.lit("B00001")),
             plan.filter(pl.col("envelope_seq") > half).with_columns(batch_id=pl.lit("B00002"))]
    _warm()
    households = households_from_plan(plan, numbers)
    settings = PrintSettings()
    with tempfile.TemporaryDirectory() as tmp:
        counter = iter(range(10**6))

        cpu1: list[float] = []

        def one():
            pages, cpu = _ours((Path(tmp) / f"one{next(counter)}", plan, numbers))
            cpu1.append(cpu)
            return pages

        pages = one()
        cpu1.clear()
        t1 = timed(one, repeats)
        ctx = mp.get_context("spawn")   # fork after polars threads can deadlock
        with ctx.Pool(2) as pool:
            pool.map(_warm, range(2))

            cpu2: list[float] = []

            def two():
                k = next(counter)
                res = pool.map(_ours, [(Path(tmp) / f"two{k}-{i}", p, numbers)
                                       for i, p in enumerate(parts)], chunksize=1)
                cpu2.append(max(c for _, c in res))
                return sum(p for p, _ in res)

            assert two() == pages
            cpu2.clear()
            t2 = timed(two, repeats)
    cpu_plain: list[float] = []

    def plain_once():
        c = time.process_time()
        plain_render(households, settings, False)
        cpu_plain.append(time.process_time() - c)

    tp = timed(plain_once, repeats)
    tw = None if a.no_widget else timed(lambda: plain_render(households, settings, True),
                                        max(5, repeats // 2 + 1) if not a.quick else 5)
    med = statistics.median
    r1, r2, rp = pages / med(t1), pages / med(t2), pages / med(tp)
    print(f"households {n}, pages {pages} ({pages / n:.2f} per household), medians of {repeats}")
    print(f"ours x1        {r1:8.0f} pages/s   (min {pages / max(t1):.0f}, max {pages / min(t1):.0f})")
    print(f"ours x2        {r2:8.0f} pages/s   speed-up {r2 / r1:.2f}x over one process (wall)")
    c1, c2 = med(cpu1), med(cpu2)
    print(f"CPU time       x1 {c1:.2f} s, x2 {c2:.2f} s for the slower process: "
          f"{pages / c1:.0f} pages/CPU-s, two free cores would give {c1 / c2:.2f}x")
    print(f"plain text     {rp:8.0f} pages/s   ours x1 / plain = {r1 / rp:.2f}")
    cp = med(cpu_plain)
    print(f"plain CPU      {pages / cp:8.0f} pages/CPU-s   ours x1 / plain by CPU time = {cp / c1:.2f}")
    if tw:
        rw = pages / med(tw)
        print(f"widget QR      {rw:8.0f} pages/s   ours x1 / widget recipe = {r1 / rw:.2f}")
    print(f"cpus {mp.cpu_count()}, load average {os.getloadavg()[0]:.1f} at the end "
          "(machine shared with other jobs: figures under load)")


if __name__ == "__main__":
    main()
