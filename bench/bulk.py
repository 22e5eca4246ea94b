"""Benchmark: the whole bulk flow on a Nerima-size register (715,000 residents).

Prints per-stage wall times, pages/s, peak memory, and — as a baseline measured in the
same run — one batch rendered in this process on one core, so the flow's throughput
can be read as a ratio (what parallel rendering and QA really buy on this machine).

    python bench/bulk.py            # 715,000 residents, 2 workers (goal: < 20 min wall)
    python bench/bulk.py --quick    # 5,000 residents, a smoke run
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def peak_rss_mb() -> tuple[float, float]:
    """Peak resident memory of this process and of its largest child, in MB."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return own, children


def baseline_pages_per_s(opts, batch_id: str) -> float:
    """Render one planned batch again, in this process, into a scratch folder."""
    import polars as pl

    from core.heap import frozen_heap
    from layouts.batch import write_batch
    from pipeline.stages.bookkeeping import run_ledger
    from pipeline.stages.print_plan import print_settings, render_numbers

    rows = pl.scan_parquet(opts.run_dir.plan_path).filter(pl.col("batch_id") == batch_id).collect()
    with run_ledger(opts) as ledger:
        numbers = render_numbers(ledger, rows)
    with tempfile.TemporaryDirectory() as scratch, frozen_heap():   # as the workers draw
        start = time.perf_counter()
        result = write_batch(Path(scratch) / batch_id, rows, numbers, print_settings(opts))
        return result.pages / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=715_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=2000)
    parser.add_argument("--qr-sample", type=int, default=20)
    parser.add_argument("--out", default="bench/out/bulk")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    if args.quick:
        args.rows, args.batch_size = 5000, 500

    from cli.prefect_api import prefect_api
    from core.keys import generate_key_file
    from core.settings import resolve_settings
    from flows.issuance import run_bulk
    from pipeline.options import RunOptions
    from sample_data.generate import SampleParams, generate_register, write_export

    out = Path(args.out)
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    register = out / "register.csv"
    t0 = time.perf_counter()
    write_export(generate_register(SampleParams(rows=args.rows, seed=2015, as_of=dt.date(2015, 10, 5))), register)
    generate_s = time.perf_counter() - t0
    generate_key_file(out / "key.json", demo=True)
    settings = resolve_settings({
        "ledger": {"url": f"sqlite:///{out / 'ledger.db'}", "operator": "bench"},
        "key": {"ref": str(out / "key.json")},
        "runner": {"workers": args.workers, "prefect_home": str(out / "prefect")},
        "print": {"batch_size": args.batch_size, "issue_date": "2015-10-05"},
        "qa": {"qr_sample_size": args.qr_sample},
    }, {}, demo=True)
    opts = RunOptions.of(settings, out / "run")
    t0 = time.perf_counter()
    with prefect_api(opts.runner.prefect_home, opts.runner.api_start_timeout_s):  # one API, as the CLI
        report = run_bulk(str(register), opts)
    wall = time.perf_counter() - t0
    own_mb, child_mb = peak_rss_mb()
    base = baseline_pages_per_s(opts, report_batch(opts))

    print(f"register: {args.rows:,} residents generated in {generate_s:.1f} s")
    print(f"outcomes: {report['outcomes']} (add up: {report['counts_add_up']})")
    print(f"households {report['households']:,}, envelopes {report['envelopes']:,}, "
          f"batches {report['batches']}, pages {report['pages']:,}, manual {report['manual_handling']}")
    print("stage wall times (s):")
    for stage, seconds in report["timings"].items():
        print(f"  {stage:<22} {seconds:10.1f}")
    render_qa = report["timings"].get("render_qa", wall)
    flow_pps = report["pages"] / render_qa if render_qa else 0.0
    print(f"total wall {wall:.1f} s ({wall / 60:.1f} min; goal < 20 min) — QA verdict {report['qa']['verdict']}")
    print(f"render+QA: {flow_pps:,.0f} pages/s with {args.workers} workers; "
          f"baseline one batch, render only, one core: {base:,.0f} pages/s; ratio {flow_pps / base:.2f}")
    print(f"peak RSS: flow process {own_mb:,.0f} MB, largest worker {child_mb:,.0f} MB")


def report_batch(opts) -> str:
    import json

    return json.loads((opts.run_dir.work_dir / "plan.json").read_text())["batch_ids"][0]


if __name__ == "__main__":
    main()
