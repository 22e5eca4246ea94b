"""Benchmark: committing a Nerima-size set of new numbers (740,000) to the ledger.

For SQLite and PostgreSQL (when a URL is configured) it prints medians of several runs of
- ``commit``: ledger.numbers.commit of 740,000 new numbers into a fresh ledger (staging,
  set-based checks, one INSERT ... SELECT, all constraints and indexes) — goal < 30 s;
- ``recommit``: the same set again (the idempotent no-op a resumed run does);
- ``baseline``: the same rows loaded the plainest bulk way into an unconstrained table
  (SQLite: one executemany in one transaction; PostgreSQL: COPY), measured in the same run,
  so ``commit / baseline`` is the price of the ledger's guarantees on this machine.

    python bench/ledger.py              # 740,000 numbers, 3 runs per figure
    python bench/ledger.py --quick      # 20,000 numbers, a smoke run
    python bench/ledger.py --verify     # also time the GX proof over the whole ledger once
    PostgreSQL: --pg-url URL, or $MYNUMBER_BENCH_PG_URL / $MYNUMBER_TEST_PG_URL

Every run uses a fresh SQLite file / PostgreSQL schema, dropped afterwards.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np
import polars as pl
import sqlalchemy as sa

from ledger import numbers, open_ledger, runs
from ledger.engine import make_engine
from ledger.staging import load
from pipeline.stages.verify import verify_ledger
from transforms.numbering import derive_my_numbers

GOAL_S = 30.0


def make_frame(n: int, seed: int = 20151005) -> pl.DataFrame:
    """n distinct resident codes and their numbers under a throwaway random key."""
    rng = np.random.default_rng(seed)
    bodies = rng.choice(10**11, size=n, replace=False)
    codes = pl.Series("resident_code", bodies).cast(pl.Utf8).str.zfill(11)
    numbers = derive_my_numbers(codes, rng.bytes(32), 0)
    return pl.DataFrame({"resident_code": codes, "my_number": numbers,
                         "generation": pl.Series([0] * n, dtype=pl.Int32)})


class Database:
    """A fresh, empty database per measurement: a temp SQLite file or a PostgreSQL schema."""

    def __init__(self, kind: str, pg_base: str | None, tmp: Path) -> None:
        self.kind, self.pg_base, self.tmp = kind, pg_base, tmp
        self.schema: str | None = None

    def __enter__(self) -> str:
        if self.kind == "sqlite":
            return f"sqlite:///{self.tmp / f'{uuid.uuid4().hex}.db'}"
        self.schema = f"bench_{uuid.uuid4().hex[:12]}"
        with sa.create_engine(self.pg_base).begin() as conn:
            conn.exec_driver_sql(f"CREATE SCHEMA {self.schema}")
        sep = "&" if "?" in self.pg_base else "?"
        return f"{self.pg_base}{sep}options={quote(f'-csearch_path={self.schema}')}"

    def __exit__(self, *exc: object) -> None:
        if self.schema:
            engine = sa.create_engine(self.pg_base)
            with engine.begin() as conn:
                conn.exec_driver_sql(f"DROP SCHEMA IF EXISTS {self.schema} CASCADE")
            engine.dispose()


def time_baseline(url: str, frame: pl.DataFrame) -> float:
    """The same rows into a plain table with no constraint, index or check."""
    engine = make_engine(url)  # a plain table beside no ledger: the price of nothing
    plain = sa.Table("plain_numbers", sa.MetaData(), sa.Column("resident_code", sa.String(11)),
                     sa.Column("my_number", sa.String(12)), sa.Column("generation", sa.Integer))
    with engine.begin() as conn:
        plain.create(conn)
    start = time.perf_counter()
    with engine.begin() as conn:
        load(conn, plain, frame)
    elapsed = time.perf_counter() - start
    engine.dispose()
    return elapsed


def time_commit(url: str, frame: pl.DataFrame, verify: bool = False
                ) -> tuple[float, float, float | None]:
    """(first commit, identical recommit, GX proof or None) on a fresh ledger."""
    ledger = open_ledger(url, operator="bench", create=True)
    run_id = runs.start(ledger, "bench", "0" * 64, {"rows": frame.height})
    start = time.perf_counter()
    first = numbers.commit(ledger, run_id, frame, "k-bench")
    commit_s = time.perf_counter() - start
    start = time.perf_counter()
    again = numbers.commit(ledger, run_id, frame, "k-bench")
    recommit_s = time.perf_counter() - start
    assert first.inserted == frame.height and again.already_present == frame.height
    verify_s = None
    if verify:
        start = time.perf_counter()
        assert verify_ledger(ledger).success
        verify_s = time.perf_counter() - start
    ledger.close()
    return commit_s, recommit_s, verify_s


def bench(kind: str, pg_base: str | None, frame: pl.DataFrame, runs: int,
          verify: bool = False) -> dict:
    figures: dict[str, list[float]] = {"baseline": [], "commit": [], "recommit": []}
    with tempfile.TemporaryDirectory(prefix="bench-ledger-") as tmp:
        for i in range(runs):
            with Database(kind, pg_base, Path(tmp)) as url:
                figures["baseline"].append(time_baseline(url, frame))
            with Database(kind, pg_base, Path(tmp)) as url:
                # the GX proof once (it reads the whole table: ~20 s at 740,000 rows)
                commit_s, recommit_s, verify_s = time_commit(url, frame, verify and i == 0)
                figures["commit"].append(commit_s)
                figures["recommit"].append(recommit_s)
                if verify_s is not None:
                    figures["verify"] = [verify_s]
    med = {k: statistics.median(v) for k, v in figures.items()}
    return {"database": kind, "rows": frame.height, "runs": runs, "median_s": med,
            "all_s": figures, "commit_over_baseline": med["commit"] / med["baseline"],
            "rows_per_s": frame.height / med["commit"], "goal_met": med["commit"] < GOAL_S}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20,000 rows, 1 run: a smoke test")
    parser.add_argument("--rows", type=int, default=None)
    parser.add_argument("--runs", type=int, default=None)
    parser.add_argument("--verify", action="store_true",
                        help="also time the GX uniqueness proof once per database")
    parser.add_argument("--pg-url", default=os.environ.get("MYNUMBER_BENCH_PG_URL")
                        or os.environ.get("MYNUMBER_TEST_PG_URL"))
    parser.add_argument("--out", type=Path, default=Path("bench/out/ledger.json"))
    args = parser.parse_args()
    rows = args.rows or (20_000 if args.quick else 740_000)
    runs = args.runs or (1 if args.quick else 3)
    frame = make_frame(rows)
    results = [bench("sqlite", None, frame, runs, args.verify)]
    if args.pg_url:
        results.append(bench("postgresql", args.pg_url, frame, runs, args.verify))
    else:
        print("postgresql: skipped (no --pg-url / MYNUMBER_BENCH_PG_URL / MYNUMBER_TEST_PG_URL)")
    print(f"ledger commit of {rows:,} new numbers, median of {runs} run(s) "
          f"(2 shared cores: noisy); goal < {GOAL_S:.0f} s")
    print(f"{'database':<11}{'commit s':>10}{'recommit s':>12}{'baseline s':>12}"
          f"{'commit/baseline':>17}{'rows/s':>11}  goal")
    for r in results:
        m = r["median_s"]
        print(f"{r['database']:<11}{m['commit']:>10.2f}{m['recommit']:>12.2f}{m['baseline']:>12.2f}"
              f"{r['commit_over_baseline']:>17.1f}{r['rows_per_s']:>11,.0f}  "
              f"{'met' if r['goal_met'] else 'MISSED'}"
              + (f"   GX proof {m['verify']:.1f} s" if "verify" in m else ""))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(f"figures: {args.out}")


if __name__ == "__main__":
    main()
