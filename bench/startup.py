"""Benchmark: start-up cost of the CLI, as an operator meets it.

Prints (each the median of --repeat runs, wall time of the real console script):

- ``mynumber --help``;
- ``mynumber check`` of a 300-row register, split into the imports of the third-party
  packages it needs (measured alone, in a fresh interpreter) and the rest: our own part
  (goal < 1 s);
- preflight alone on that register (goal: well under 1 s);
- a daily run of 100 events as a one-shot CLI, Prefect API start included (goal < 20 s on a
  quiet machine), after an untimed bulk run that fills the ledger;
- bytes per printed page of that run (what preflight's disk estimate assumes).

    python bench/startup.py             # 3 repeats
    python bench/startup.py --quick     # 1 repeat, no daily run
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
MYNUMBER = str(BIN / "mynumber")
ENV = {**os.environ, "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "PREFECT_LOGGING_LEVEL": "WARNING"}
#: third-party packages `mynumber check` imports (polars, GX via the register suite)
CHECK_IMPORTS = "import polars, numpy, great_expectations, typer, rich"


def wall(args: list[str], cwd: Path, expect: tuple[int, ...] = (0,)) -> float:
    start = time.perf_counter()
    done = subprocess.run(args, cwd=cwd, env=ENV, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if done.returncode not in expect:
        raise SystemExit(f"{' '.join(args[:3])} exited {done.returncode}: {done.stderr[-800:]}")
    return elapsed


def median(args: list[str], cwd: Path, repeat: int, expect: tuple[int, ...] = (0,)) -> float:
    return statistics.median(wall(args, cwd, expect) for _ in range(repeat))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    repeat = 1 if args.quick else args.repeat
    with tempfile.TemporaryDirectory(prefix="mynumber-bench-startup-") as tmp_name:
        tmp = Path(tmp_name)
        wall([MYNUMBER, "sample", str(tmp / "register.csv"), "--rows", "300"], tmp)
        help_s = median([MYNUMBER, "--help"], tmp, repeat)
        check_s = median([MYNUMBER, "check", str(tmp / "register.csv"), "--out", str(tmp / "check")],
                         tmp, repeat, expect=(0, 1))
        imports_s = median([sys.executable, "-c", CHECK_IMPORTS], tmp, repeat)
        bare_s = median([sys.executable, "-c", "pass"], tmp, repeat)
        preflight_code = (
            "import sys, time; from pathlib import Path; sys.path.insert(0, sys.argv[1])\n"
            "from core.keys import generate_key_file; from core.settings import resolve_settings\n"
            "from pipeline.options import RunOptions; from pipeline.preflight import run_preflight\n"
            "tmp = Path(sys.argv[2]); generate_key_file(tmp / 'pk.json', demo=True)\n"
            "s = resolve_settings({'ledger': {'url': f'sqlite:///{tmp}/l.db'}, 'key': {'ref': str(tmp / 'pk.json')}},"
            " {}, demo=True)\n"
            "o = RunOptions.of(s, tmp / 'pf'); p = tmp / 'register.csv'\n"
            "t = time.perf_counter(); run_preflight(o, p, 'bulk'); cold = time.perf_counter() - t\n"
            "t = time.perf_counter(); run_preflight(o, p, 'bulk'); print(cold, time.perf_counter() - t)"
        )
        done = subprocess.run([sys.executable, "-c", preflight_code, str(ROOT), str(tmp)], env=ENV,
                              capture_output=True, text=True)
        cold_s, warm_s = (float(x) for x in (done.stdout.split() or ["nan", "nan"]))
        print(f"mynumber --help                         {help_s:6.2f} s")
        print(f"mynumber check (300 rows)               {check_s:6.2f} s")
        print(f"  third-party imports it needs          {imports_s:6.2f} s  ({CHECK_IMPORTS})")
        print(f"  interpreter start                     {bare_s:6.2f} s")
        print(f"  our own part (the rest)               {check_s - imports_s:6.2f} s  (goal < 1 s)")
        print(f"preflight of a 300-row bulk, cold       {cold_s:6.3f} s  (first call: imports sqlalchemy, alembic)")
        print(f"preflight of a 300-row bulk, warm       {warm_s:6.3f} s  (our own code; goal < 1 s)")
        if args.quick:
            return
        ledger = f"sqlite:///{tmp / 'ledger.db'}"
        common = ["--ledger", ledger, "--key", str(tmp / "key.json"), "--workers", "2"]
        wall([MYNUMBER, "keygen", str(tmp / "key.json"), "--demo"], tmp)
        wall([MYNUMBER, "bulk", str(tmp / "register.csv"), "--out", str(tmp / "bulk"), *common,
              "--issue-date", "2026-11-01"], tmp)
        wall([MYNUMBER, "sample-events", str(tmp / "events.csv"), "--register", str(tmp / "register.csv"),
              "--events", "100", "--as-of", "2026-11-02"], tmp)
        daily_s = wall([MYNUMBER, "daily", str(tmp / "events.csv"), "--date", "2026-11-02",
                        "--out", str(tmp / "daily"), *common], tmp, expect=(0, 1))
        pdfs = list((tmp / "bulk" / "batches").glob("*/cards.pdf"))
        pages = sum(int(__import__("pypdfium2").PdfDocument(str(p)).__len__()) for p in pdfs)
        size = sum(p.stat().st_size for p in pdfs)
        print(f"daily run, 100 events, one-shot CLI     {daily_s:6.2f} s  (goal < 20 s quiet; Prefect API start included)")
        print(f"bytes per printed page (bulk, {pages} pages) {size / max(pages, 1):8.0f}")


if __name__ == "__main__":
    main()
