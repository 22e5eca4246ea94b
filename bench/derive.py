"""Benchmark of the number core (not a test): prints figures and ratios, one process, one run.

1. raw AES-256-ECB throughput of ``cryptography`` (blocks/s) and the bound it sets for FF1:
   FF1 needs 10 AES blocks per number (one per Feistel round), so bound = blocks/s ÷ 10;
2. the vectorised FF1 core (`BatchFF1.encrypt_ints`) on 740,000 uint64 inputs;
3. `derive_my_numbers` on 740,000 resident codes, strings in and out;
4. the same with the key in a PKCS#11 token (SoftHSM2, made for the run), against the
   in-memory rate measured interleaved with it (goal ≥ 0.4x);
5. the scalar reference FF1;
6. 125 million numbers derived by `derive_in_chunks` in a child process: time and peak
   memory (the child's peak resident set size, VmHWM).

Each throughput is the median of ``--repeats`` (≥ 5) runs, on one core (nothing here uses
threads). Goals: FF1 core ≥ 40 % of the bound, derive ≥ 25 %, 125 M in < 15 s and < 600 MB.

    python bench/derive.py              # full run (about a minute)
    python bench/derive.py --quick      # smaller sizes, for a smoke test
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import cryptography
import polars as pl
import pyarrow as pa
from cryptography.hazmat.backends.openssl.backend import backend as openssl
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from transforms.ff1 import FF1
from transforms.ff1_batch import BatchFF1
from transforms.numbering import derive_in_chunks, derive_my_numbers

N_NUMBERS = 740_000  # about Nerima's population
STREAM_TOTAL = 125_000_000  # about Japan's
STREAM_CHUNK = 1_048_576
GOAL_CORE, GOAL_DERIVE = 0.40, 0.25
GOAL_STREAM_S, GOAL_STREAM_MB = 15.0, 600.0
GOAL_PKCS11 = 0.4


#: CPU-time medians, kept beside the wall-clock ones: on a shared machine the wall clock
#: also counts the time other processes held the core
CPU_MEDIANS: list[float] = []


def median_time(fn, repeats: int) -> float:
    """Median wall-clock seconds of ``fn`` (the CPU-time median goes to CPU_MEDIANS)."""
    fn()  # warm-up: caches, lazy tables, page faults
    times, cpu = [], []
    for _ in range(repeats):
        start, start_cpu = time.perf_counter(), time.thread_time()
        fn()
        times.append(time.perf_counter() - start)
        cpu.append(time.thread_time() - start_cpu)
    CPU_MEDIANS.append(float(np.median(cpu)))
    return float(np.median(times))


def cpu_rate(count: int) -> float:
    return count / CPU_MEDIANS[-1]


def random_codes_views(n: int, rng: np.random.Generator) -> pl.Series:
    """n random 11-digit resident codes as a polars String Series, built from a string-view
    buffer, fast enough not to dominate the streaming run: each random byte b becomes the
    digit ⌊10·b/256⌋ (slightly non-uniform, which does not matter for timing)."""
    lanes = np.uint64(0x00FF00FF00FF00FF)
    raw = rng.bit_generator.random_raw(2 * n)
    digits = raw & lanes
    digits *= np.uint64(10)
    digits >>= np.uint64(8)
    digits &= lanes  # even bytes → 0..9
    odd = raw >> np.uint64(8)
    odd &= lanes
    odd *= np.uint64(10)
    odd &= ~lanes  # odd bytes → 0..9, already in place (⌊10·b/256⌋ · 256)
    digits |= odd
    digits |= np.uint64(0x3030303030303030)
    words = digits.reshape(n, 2)
    words[:, 0] &= np.uint64(0xFFFFFFFF00000000)  # length 11 in the first 4 bytes …
    words[:, 0] |= np.uint64(11)
    words[:, 1] &= np.uint64(0x00FFFFFFFFFFFFFF)  # … and a zero byte after the 11 digits
    series = pl.from_arrow(pa.Array.from_buffers(pa.string_view(), n,
                                                 [None, pa.py_buffer(words)]))
    return series.alias("resident_code")


def bench_aes(repeats: int) -> float:
    blocks = 1 << 20
    data = np.frombuffer(os.urandom(16 * blocks), dtype=np.uint8)
    out = np.empty(16 * blocks + 16, dtype=np.uint8)
    enc = Cipher(algorithms.AES(os.urandom(32)), modes.ECB()).encryptor()
    return blocks / median_time(lambda: enc.update_into(data, out), repeats)


def peak_rss_kb() -> int:
    """This process's peak resident set size in KiB: VmHWM from /proc (a fresh value per
    exec'd process; getrusage's ru_maxrss on Linux carries the parent's peak across exec)."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:  # pragma: no cover - not Linux
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def stream_child(total: int, chunk: int) -> None:
    """Run in a child process: derive ``total`` numbers in chunks, print timings."""
    baseline_kb = peak_rss_kb()
    key = os.urandom(32)
    rng = np.random.default_rng(1)
    make_s = derive_s = 0.0
    produced = 0

    def chunks():
        nonlocal make_s
        left = total
        while left > 0:
            start = time.perf_counter()
            part = random_codes_views(min(chunk, left), rng)
            make_s += time.perf_counter() - start
            left -= len(part)
            yield part

    start, start_cpu = time.perf_counter(), time.process_time()
    for numbers in derive_in_chunks(chunks(), key, 0):
        produced += len(numbers)
    wall = time.perf_counter() - start
    cpu = time.process_time() - start_cpu
    derive_s = wall - make_s
    assert produced == total
    print(f"{wall:.6f} {derive_s:.6f} {make_s:.6f} {baseline_kb} {cpu:.6f} {peak_rss_kb()}")


def bench_stream(total: int, chunk: int) -> tuple[float, ...]:
    cmd = [sys.executable, __file__, "--stream-child", str(total), "--chunk", str(chunk)]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=True)
    wall, derive_s, make_s, baseline_kb, cpu, peak_kb = proc.stdout.split()
    return (float(wall), float(derive_s), float(make_s), float(peak_kb) / 1024,
            float(baseline_kb) / 1024, float(cpu))


def bench_pkcs11(codes: pl.Series, key: bytes, in_memory: float, repeats: int) -> None:
    """The same key imported into a SoftHSM2 token made here: derive_my_numbers with the
    token doing the AES (core.hsm), against the in-memory rate of this same run."""
    import tempfile

    from core.hsm import open_token_key
    from tests.helpers.softhsm import import_aes_key, make_token, softhsm_module

    if softhsm_module() is None:
        print("PKCS#11 (SoftHSM2): not installed (Debian softhsm2), skipped")
        return
    with tempfile.TemporaryDirectory(prefix="bench-softhsm-") as folder:
        token = make_token(Path(folder))
        import_aes_key(token, "k-bench-imported", key)
        token_key = open_token_key(token.uri("k-bench-imported"), module=token.module,
                                   pin_file=str(token.pin_file))
        same = derive_my_numbers(codes, token_key.derivation_key, 0).equals(
            derive_my_numbers(codes, key, 0))
        # interleave the two paths so machine load hits both alike
        mem_times, hsm_times = [], []
        for _ in range(repeats):
            for times, k in ((mem_times, key), (hsm_times, token_key.derivation_key)):
                t0 = time.perf_counter()
                derive_my_numbers(codes, k, 0)
                times.append(time.perf_counter() - t0)
        mem = len(codes) / float(np.median(mem_times))
        hsm = len(codes) / float(np.median(hsm_times))
        ratio = hsm / mem
        print(f"derive_my_numbers, PKCS#11 token (SoftHSM2): {hsm / 1e6:8.2f} M numbers/s; "
              f"in memory, interleaved: {mem / 1e6:.2f} M/s (earlier: {in_memory / 1e6:.2f}); "
              f"ratio {ratio:.2f}x (goal ≥ {GOAL_PKCS11:.1f}x: "
              f"{'met' if ratio >= GOAL_PKCS11 else 'NOT met'}); same numbers: {same}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=7, help="runs per median (>= 5)")
    parser.add_argument("--stream", type=int, default=STREAM_TOTAL, help="numbers to stream")
    parser.add_argument("--chunk", type=int, default=STREAM_CHUNK, help="rows per chunk")
    parser.add_argument("--quick", action="store_true", help="small sizes (smoke test)")
    parser.add_argument("--stream-child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.stream_child:
        stream_child(args.stream_child, args.chunk)
        return
    repeats = max(5, args.repeats)
    n = N_NUMBERS
    stream_total = args.stream
    if args.quick:
        n, stream_total = 100_000, min(stream_total, 5_000_000)

    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo")
                if line.startswith("model name")), platform.processor()) \
        if Path("/proc/cpuinfo").exists() else platform.processor()
    print(f"machine: {cpu}, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}; "
          f"Python {platform.python_version()}, numpy {np.__version__}, "
          f"cryptography {cryptography.__version__} ({openssl.openssl_version_text()})")
    print(f"medians of {repeats} runs, one core\n")

    aes = bench_aes(repeats)
    aes_cpu = cpu_rate(1 << 20)
    bound, bound_cpu = aes / 10, aes_cpu / 10
    print("                                                     wall clock    [CPU time]")
    print(f"AES-256-ECB (cryptography update_into, 1 Mi blocks): {aes / 1e6:8.1f} M blocks/s"
          f"  [{aes_cpu / 1e6:.1f}]")
    print(f"bound = blocks/s ÷ 10 (10 AES blocks per FF1 number): {bound / 1e6:8.2f} M numbers/s"
          f" [{bound_cpu / 1e6:.2f}]")

    key = os.urandom(32)
    rng = np.random.default_rng(0)
    values = rng.integers(0, 10 ** 11, n, dtype=np.uint64)
    out = np.empty_like(values)
    ff1 = BatchFF1(key)
    core = n / median_time(lambda: ff1.encrypt_ints(values, 11, b"0", out=out), repeats)
    core_cpu = cpu_rate(n)
    print(f"FF1 batch core, {n:,} uint64:            {core / 1e6:8.2f} M numbers/s = "
          f"{core / bound:5.1%} of bound [{core_cpu / 1e6:.2f} = {core_cpu / bound_cpu:.1%}]"
          f" (goal ≥ {GOAL_CORE:.0%})")

    codes = random_codes_views(n, rng)
    codes = pl.Series("resident_code", codes.to_list())  # ordinary polars strings
    derive = n / median_time(lambda: derive_my_numbers(codes, key, 0), repeats)
    derive_cpu = cpu_rate(n)
    print(f"derive_my_numbers, {n:,} strings:         {derive / 1e6:8.2f} M numbers/s = "
          f"{derive / bound:5.1%} of bound [{derive_cpu / 1e6:.2f} = "
          f"{derive_cpu / bound_cpu:.1%}] (goal ≥ {GOAL_DERIVE:.0%})")

    bench_pkcs11(codes, key, derive, repeats)

    scalar_n = 2_000
    scalar = FF1(key)
    scalar_values = values[:scalar_n]
    ref = scalar_n / median_time(lambda: scalar.encrypt_ints(scalar_values, 11, b"0"), 5)
    print(f"scalar reference FF1, {scalar_n:,} numbers:       {ref / 1e6:8.4f} M numbers/s "
          f"({core / ref:,.0f}x slower than the batch core)")

    wall, derive_s, make_s, peak_mb, base_mb, cpu_s = bench_stream(stream_total, args.chunk)
    ok = "met" if derive_s < GOAL_STREAM_S and peak_mb < GOAL_STREAM_MB else "NOT met"
    print(f"\n{stream_total:,} numbers streamed in chunks of {args.chunk:,} (child process):")
    print(f"  derive_in_chunks: {derive_s:6.2f} s ({stream_total / derive_s / 1e6:.2f} M/s); "
          f"making the input codes: {make_s:.2f} s more; wall {wall:.2f} s "
          f"[CPU {cpu_s:.2f} s in all]")
    print(f"  peak memory (peak RSS of the child): {peak_mb:6.0f} MB (after imports: "
          f"{base_mb:.0f} MB); "
          f"goal < {GOAL_STREAM_S:.0f} s and < {GOAL_STREAM_MB:.0f} MB: {ok}")


if __name__ == "__main__":
    main()
