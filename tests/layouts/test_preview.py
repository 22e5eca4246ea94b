"""`mynumber preview`: the sample household renders, with the IVS member sent separately."""

from __future__ import annotations

import polars as pl
import typer

from cli.commands import preview


def test_preview_writes_pdf_and_pngs(tmp_path) -> None:
    app = typer.Typer()
    preview.register(app)
    app.command("noop")(lambda: None)        # keep typer in multi-command mode
    app(["preview", "--out", str(tmp_path), "--dpi", "40"], standalone_mode=False)
    pngs = sorted(tmp_path.glob("page-*.png"))
    m = pl.read_parquet(tmp_path / "manifest.parquet")
    assert m["members"][0] == 4 and m["manual_members"][0] == 1
    assert len(pngs) == 5 and all(p.stat().st_size < 200_000 for p in pngs)
    assert m["my_numbers_masked"][0].to_list()[0] == "********9018"
    assert "NGUYEN VAN AN" in m["member_names"][0].to_list()
