"""Machine-readable marks read back from rendered page images: QR codes with zxing-cpp,
the customer barcode by measuring each bar's extent against the manual's sizes."""

from __future__ import annotations

import numpy as np
import polars as pl
import zxingcpp

from layouts.spec import DEFAULT_SPEC
from tests.helpers.layout_pages import render_region
from transforms.customer_barcode import encode

QR_DPI = 100          # modules are ~1 mm: 4 px a module decodes reliably, and fast
BAR_DPI = 600


def test_every_qr_code_decodes_to_its_application_id(rendered) -> None:
    q = DEFAULT_SPEC.member.qr
    doc = rendered.pdf()
    checked = 0
    for env in rendered.manifest.filter(pl.col("first_page").is_not_null()).iter_rows(named=True):
        for page, app_id in zip(range(env["first_page"] + 1, env["last_page"] + 1),
                                env["application_ids"], strict=True):
            img = render_region(doc, page - 1, q.x - 2, q.y - 2, q.w + 4, q.h + 4, QR_DPI)
            found = zxingcpp.read_barcodes(img)
            assert [(r.format, r.text) for r in found] == [(zxingcpp.BarcodeFormat.QRCode, app_id)]
            checked += 1
    assert checked == int(rendered.manifest["members"].sum())
    # the address sheets carry no QR code
    first = rendered.manifest.filter(pl.col("first_page").is_not_null())["first_page"][0]
    assert not zxingcpp.read_barcodes(doc[first - 1].render(scale=QR_DPI / 72).to_pil(),
                                      formats=zxingcpp.BarcodeFormat.QRCode)


def read_customer_bars(doc, index: int) -> str:
    """Classify each of the 67 bars as F/A/D/T from its top and bottom in the image."""
    a, cb = DEFAULT_SPEC.address, DEFAULT_SPEC.customer_barcode
    x0, y0 = a.window.x + a.window_padding, a.barcode_y
    margin = 1.0
    img = np.asarray(render_region(doc, index, x0 - margin, y0 - margin,
                                   cb.width() + 2 * margin, cb.long_bar + 2 * margin,
                                   BAR_DPI).convert("L"))
    px = BAR_DPI / 25.4
    asc = (cb.long_bar - cb.timing_bar) / 2
    out = []
    for i in range(67):
        col = img[:, int((margin + i * cb.pitch + cb.bar_width / 2) * px)]
        dark = np.flatnonzero(col < 128)
        if not len(dark):
            return ""
        top = dark[0] / px - margin
        bottom = (dark[-1] + 1) / px - margin
        up, low = top < asc / 2, bottom > cb.long_bar - asc / 2
        out.append("F" if up and low else "A" if up else "D" if low else "T")
        height = bottom - top
        expected = {"F": cb.long_bar, "A": cb.long_bar - asc, "D": cb.long_bar - asc,
                    "T": cb.timing_bar}[out[-1]]
        assert abs(height - expected) < 0.1, (i, height, expected)
    return "".join(out)


def test_customer_barcodes_read_back_from_the_address_sheets(rendered) -> None:
    doc = rendered.pdf()
    plan = rendered.plan
    catch_all = 0
    for env in rendered.manifest.filter(pl.col("first_page").is_not_null()).iter_rows(named=True):
        r = plan.filter(pl.col("envelope_seq") == env["envelope_seq"]).row(0, named=True)
        bars = read_customer_bars(doc, env["first_page"] - 1)
        if r["postal_code"] in rendered.settings.no_barcode_postcodes:
            assert bars == ""
            catch_all += 1
        else:
            full = f"{r['address']} {r['address_extra']}" if r["address_extra"] else r["address"]
            assert bars == encode(r["postal_code"], full).bars
    assert catch_all >= 1


def test_bar_width_and_pitch_follow_the_manual(rendered) -> None:
    a, cb = DEFAULT_SPEC.address, DEFAULT_SPEC.customer_barcode
    doc = rendered.pdf()
    page = rendered.manifest.filter(pl.col("postal_code") != "1760000")["first_page"][0]
    x0 = a.window.x + a.window_padding
    img = np.asarray(render_region(doc, page - 1, x0 - 1, a.barcode_y + 1.5, cb.width() + 2,
                                   0.6, BAR_DPI).convert("L"))
    row = img[img.shape[0] // 2] < 128
    edges = np.flatnonzero(np.diff(row.astype(int)))
    starts, ends = edges[::2] + 1, edges[1::2] + 1
    px = BAR_DPI / 25.4
    assert len(starts) == 67
    assert abs(np.median(ends - starts) / px - cb.bar_width) < 0.05
    assert abs(np.median(np.diff(starts)) / px - cb.pitch) < 0.05
