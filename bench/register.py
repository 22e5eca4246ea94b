"""Benchmark: the whole register check (read → normalise → GX suite → quarantine) on a
Nerima-sized register (740,000 residents), on one core. Target: < 60 s.

Prints medians of ``--runs`` runs (>= 5) of `check_register_file`, and of a baseline
measured in the same run on the same file (polars reading the CSV as all-Utf8, the floor
any check must pay), with their ratio. ``--quick`` runs a 20,000-row smoke test.

    .venv/bin/python bench/register.py [--quick] [--rows N] [--runs K] [--cores N]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--quick", action="store_true", help="20,000 rows: a smoke run")
parser.add_argument("--rows", type=int, default=740_000)
parser.add_argument("--runs", type=int, default=5)
parser.add_argument("--cores", type=int, default=1, help="CPU cores to pin to (default 1)")
parser.add_argument("--faults", type=float, default=0.01, help="fraction of faulted rows")
args = parser.parse_args()
# one core means one core: pin the process and size polars' pool before polars loads
if hasattr(os, "sched_setaffinity"):
    os.sched_setaffinity(0, set(sorted(os.sched_getaffinity(0))[: args.cores]))
os.environ["POLARS_MAX_THREADS"] = str(args.cores)
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import statistics  # noqa: E402
import time  # noqa: E402

import polars as pl  # noqa: E402

from pipeline.stages.register_check import check_register_file  # noqa: E402
from sample_data.generate import DEFAULT_AS_OF, SampleParams, generate_register, inject_faults, write_export  # noqa: E402

TARGET_S = 60.0


def timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def main() -> None:
    rows = 20_000 if args.quick else args.rows
    runs = max(5, args.runs)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "register.csv"
        t0 = time.perf_counter()
        frame = generate_register(SampleParams(rows=rows, seed=740, era_dates=True))
        frame, manifest = inject_faults(frame, args.faults, 740)
        t_gen = time.perf_counter() - t0
        write_export(frame, path)
        size_mb = path.stat().st_size / 1e6
        print(f"register: {rows:,} rows, {size_mb:.1f} MB CSV (era dates mixed, {manifest.height} rows faulted);"
              f" generated in {t_gen:.1f} s; cores: {args.cores}; polars threads: {pl.thread_pool_size()}")
        check_register_file(path, today=DEFAULT_AS_OF)  # warm-up: imports, GX registry
        base, full = [], []
        result = None
        for _ in range(runs):
            base.append(timed(lambda: pl.read_csv(path, infer_schema=False)))
            t0 = time.perf_counter()
            result = check_register_file(path, today=DEFAULT_AS_OF)
            full.append(time.perf_counter() - t0)
        assert result is not None
        b, f = statistics.median(base), statistics.median(full)
        out = result.report["outcomes"]
        print(f"baseline  polars read_csv (all Utf8): median {b:6.2f} s  (runs: {', '.join(f'{x:.2f}' for x in base)})")
        print(f"register check (read+normalise+GX):   median {f:6.2f} s  (runs: {', '.join(f'{x:.2f}' for x in full)})")
        print(f"ratio check/baseline: {f / b:.1f}x;  throughput {rows / f:,.0f} rows/s;"
              f"  outcomes {out};  suite consistent with row flags: {result.report['suite_consistent']}")
        # where the time goes (one instrumented run of the same stages)
        from expectations.register import RuleParams, check_frame, prepare_check_frame
        from readers import read_table
        from transforms.register import normalise_register

        t0 = time.perf_counter()
        read = read_table(path)
        t1 = time.perf_counter()
        norm = normalise_register(read.frame)
        t2 = time.perf_counter()
        check_frame(prepare_check_frame(norm.frame, read.frame), RuleParams(today=DEFAULT_AS_OF))
        t3 = time.perf_counter()
        print(f"stages: read+decode {t1 - t0:.2f} s, normalise (dates, kana, codes) {t2 - t1:.2f} s,"
              f" flags + GX suite {t3 - t2:.2f} s")
        if not args.quick:
            print(f"target < {TARGET_S:.0f} s on one core: {'met' if f < TARGET_S else 'NOT met'}")


if __name__ == "__main__":
    main()
