"""Hand-over to the post office: printed envelopes marked mailed, the hand-over list written."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import polars as pl

from core.clock import Clock, in_japan
from core.errors import InputError, LedgerError
from layouts.handover import Sender, handover_pdf
from ledger import notices
from ledger.notices import MANUAL_BATCH
from mailroom.scans import summary
from pipeline.files import (
    read_json,
    write_bytes_atomic,
    write_csv_atomic,
)
from pipeline.options import RunOptions
from pipeline.stages.bookkeeping import run_ledger


def handover(opts: RunOptions, batch_dirs: Sequence[Path], out_dir: Path, clock: Clock) -> dict[str, Any]:
    """Mark the printed envelopes of these batches mailed and write the hand-over list.

    A batch folder needs a passing qa.json; a ``manual_manifest.csv`` stands for the
    hand-made envelopes of a run (they must have been marked made). The list (CSV and PDF)
    has registered-mail numbers, postcodes and counts, and the sender.
    """
    frames = []
    for path in batch_dirs:
        frames.append(_handover_rows(Path(path)))
    envelopes = pl.concat(frames, how="vertical_relaxed") if frames else pl.DataFrame()
    with run_ledger(opts) as ledger:   # closed when done, as the run stages do
        numbers = envelopes.get_column("registered_mail_number").to_list()
        current = notices.by_mail_numbers(ledger, numbers)
        live = current.filter(~pl.col("status").is_in(notices.NOT_LIVE))
        not_ready = live.filter(pl.col("status") == "planned").get_column(
            "registered_mail_number").unique()
        if not_ready.len():
            raise LedgerError(f"hand-over refused: {not_ready.len()} envelope(s) are not printed "
                              "(QA not passed, or not yet made by hand); nothing was marked")
        void = set(numbers) - set(live.get_column("registered_mail_number").to_list())
        if void:
            raise LedgerError(f"hand-over refused: {len(void)} envelope(s) hold only voided cards "
                              "(QA failed, reprinted, or a number revoked since): pull them from "
                              "the mail (`mynumber reconcile`); nothing was marked")
        t = notices.transition(ledger, numbers, "mailed", "handed over to the post office")
    when = in_japan(clock.now())  # the list's stamp and time are the post office's (JST)
    stamp = when.strftime("%Y%m%dT%H%M%S")
    out_dir.mkdir(parents=True, exist_ok=True)
    listing = envelopes.select("registered_mail_number", "postal_code", "batch_id",
                               "envelope_seq", "members").sort("postal_code", "registered_mail_number")
    csv_path, pdf_path = out_dir / f"handover-{stamp}.csv", out_dir / f"handover-{stamp}.pdf"
    write_csv_atomic(listing, csv_path)
    town = opts.municipality
    sender = Sender(town.office_name, town.postal_code, town.address, town.telephone)
    write_bytes_atomic(pdf_path, handover_pdf(
        listing, sender, title="簡易書留 差出票 (引受番号一覧)", when=when.strftime("%Y-%m-%d %H:%M JST"),
        demo=opts.demo, font_dir=opts.print.font_dir))
    return {**summary("handover", t, numbers), "members": int(listing["members"].sum()),
            "csv": str(csv_path), "pdf": str(pdf_path)}


def _handover_rows(path: Path) -> pl.DataFrame:
    cols = ["registered_mail_number", "postal_code", "batch_id", "envelope_seq", "members"]
    if path.is_file() and path.name == "manual_manifest.csv":
        frame = pl.read_csv(path, infer_schema=False)
        return frame.select(pl.col("registered_mail_number"), pl.col("postal_code"),
                            pl.lit(MANUAL_BATCH).alias("batch_id"),
                            pl.col("envelope_seq").cast(pl.Int64), pl.col("members").cast(pl.Int64))
    qa_path = path / "qa.json"
    if not (path / "manifest.parquet").exists():
        raise InputError("not a print batch folder (no manifest.parquet)", file=str(path))
    if not qa_path.exists() or read_json(qa_path).get("verdict") != "pass":
        raise LedgerError(f"hand-over refused: batch {path.name} has not passed QA")
    manifest = pl.read_parquet(path / "manifest.parquet")
    return manifest.filter(pl.col("members") > 0).select(
        pl.col("registered_mail_number").cast(pl.Utf8), pl.col("postal_code").cast(pl.Utf8),
        pl.col("batch_id").cast(pl.Utf8), pl.col("envelope_seq").cast(pl.Int64),
        pl.col("members").cast(pl.Int64)).select(cols)
