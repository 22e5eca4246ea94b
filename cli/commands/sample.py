"""`mynumber sample` and `mynumber sample-events`: realistic Nerima-like test data.

Deterministic: the same options and seed give the same bytes. With --faults, a manifest
OUT.faults.csv (row, fault, field, origin_row; no values) lists every row `mynumber check`
must quarantine.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console

from core.errors import ConfigError

if TYPE_CHECKING:
    import polars as pl


def _day(text: str | None, default: dt.date) -> dt.date:
    if not text:
        return default
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ConfigError("--as-of must be an ISO date (YYYY-MM-DD)") from None


def _write(frame: pl.DataFrame, out: Path, encoding: str, japanese_headers: bool, bom: bool) -> None:
    from sample_data.generate import write_export

    if out.suffix.lower() == ".parquet":
        out.parent.mkdir(parents=True, exist_ok=True)
        frame.write_parquet(out)
        return
    if encoding.lower() not in ("utf-8", "utf8", "cp932"):
        raise ConfigError("--encoding must be utf-8 or cp932")
    try:
        write_export(frame, out, encoding=encoding, japanese_headers=japanese_headers, bom=bom)
    except UnicodeEncodeError:
        raise ConfigError("a value cannot be written in CP932 (use the default rare names or UTF-8)") from None


def _manifest(manifest: pl.DataFrame, out: Path) -> Path | None:
    if manifest.height == 0:
        return None
    path = out.with_name(out.name + ".faults.csv")
    manifest.write_csv(path)
    return path


def sample(
    out: Path = typer.Argument(..., help="Output file (.csv, or .parquet)."),
    rows: int = typer.Option(1000, "--rows", min=1, help="Residents to draw."),
    seed: int = typer.Option(0, "--seed", help="Random seed (same seed, same file)."),
    encoding: str = typer.Option("utf-8", "--encoding", help="utf-8 or cp932 (cp932 writes 𠮷田 as 吉田 and drops variation selectors)."),
    bom: bool = typer.Option(False, "--bom", help="UTF-8 with a byte-order mark."),
    era_dates: bool = typer.Option(False, "--era-dates", help="Dates of birth in 和暦 forms (平成27年10月5日, H27.10.05, 4271005) mixed with ISO."),
    faults: float = typer.Option(0.0, "--faults", min=0.0, max=0.5, help="Fraction of rows with a planted fault (manifest in OUT.faults.csv)."),
    rare_rate: float = typer.Option(0.003, "--rare-rate", min=0.0, max=1.0, help="Share of households with rare-character family names (髙, 﨑, 邊, 𠮷, 葛󠄀)."),
    foreign_rate: float = typer.Option(0.031, "--foreign-rate", min=0.0, max=1.0, help="Share of foreign-resident households."),
    japanese_headers: bool = typer.Option(False, "--japanese-headers", help="Write 住民票コード, 世帯番号, ... headers."),
    as_of: str | None = typer.Option(None, "--as-of", help="Export date (ISO); ages are counted to it. Default 2026-11-01."),
) -> int:
    """Write a realistic Nerima-like resident register."""
    from sample_data.generate import DEFAULT_AS_OF, SampleParams, generate_register, inject_faults

    params = SampleParams(rows=rows, seed=seed, as_of=_day(as_of, DEFAULT_AS_OF), era_dates=era_dates,
                          rare_rate=rare_rate, foreign_rate=foreign_rate,
                          cp932_safe=encoding.lower() == "cp932")
    frame = generate_register(params)
    frame, manifest = inject_faults(frame, faults, seed, params.as_of)
    _write(frame, out, encoding, japanese_headers, bom)
    written = _manifest(manifest, out)
    Console().print(f"wrote {out}: {frame.height} residents, {frame['household_id'].n_unique()} households"
                    + (f"; {manifest.height} rows to be quarantined listed in {written}" if written else ""))
    return 0


def sample_events(
    out: Path = typer.Argument(..., help="Output events file (.csv or .parquet)."),
    register: Path = typer.Option(..., "--register", help="The register the events apply to."),
    events: int = typer.Option(40, "--events", min=1, help="Events to draw."),
    seed: int = typer.Option(0, "--seed", help="Random seed."),
    faults: float = typer.Option(0.0, "--faults", min=0.0, max=0.5, help="Fraction of faulty events (manifest in OUT.faults.csv)."),
    as_of: str | None = typer.Option(None, "--as-of", help="Day of the events file (ISO). Default 2026-11-01."),
    encoding: str = typer.Option("utf-8", "--encoding", help="utf-8 or cp932."),
) -> int:
    """Write a daily events file (births, move-ins, ...) consistent with a register."""
    from readers import read_table
    from sample_data.generate import DEFAULT_AS_OF, EventParams, generate_events, inject_event_faults

    reg = read_table(register).frame.drop("row")
    frame = generate_events(reg, EventParams(events=events, seed=seed, as_of=_day(as_of, DEFAULT_AS_OF)))
    frame, manifest = inject_event_faults(frame, faults, seed)
    _write(frame, out, encoding, False, False)
    written = _manifest(manifest, out)
    Console().print(f"wrote {out}: {frame.height} events" + (f"; faults listed in {written}" if written else ""))
    return 0


def register(app: typer.Typer) -> None:
    app.command()(sample)
    app.command("sample-events")(sample_events)
