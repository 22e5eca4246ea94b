"""Hypothesis fuzzing of the readers and the check behind them: any bytes in, and the result
is either every row accounted for (exit 0 or 1) or one InputError (exit 2) naming the file,
never a traceback; the counts add up."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.errors import InputError
from pipeline.stages.register_check import check_register_file
from tests.readers.hostile_corpus import COLUMNS, TODAY, base_rows, csv_text

FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
#: bytes that break readers: NUL, CR, quotes, separators, BOM parts, CP932 lead bytes, UTF-8 parts
NASTY = [b"\x00", b"\r", b"\n", b'"', b",", b"\t", b";", b"\xef\xbb\xbf", b"\x81", b"\x82\xa0", b"\xe3\x81",
         b"\xe3\x81\x82", b"\xff", b"PAR1", b"=cmd", b" ", "　".encode(), "世帯主".encode(),
         "平成元年1月8日".encode(), b"12345678903", b"\x1b[2J", b"\x7f", b"\xc2\x85"]


def verdict(path: Path) -> int:
    """The exit code `mynumber check` gives; asserts the result is whole."""
    try:
        result = check_register_file(path, today=TODAY, run_gx=False)
    except InputError as exc:
        assert str(exc).startswith(f"file {path}")
        return 2
    report = result.report
    outcomes = report["outcomes"]
    assert outcomes["accepted"] + outcomes["quarantined"] == report["input_rows"]
    held, passed = set(result.quarantine["row"]), set(result.accepted["row"])
    assert not held & passed and len(held | passed) == report["input_rows"]
    assert result.accepted.height == outcomes["accepted"]
    return 1 if outcomes["quarantined"] else 0


@FUZZ
@given(data=st.binary(max_size=400), suffix=st.sampled_from([".csv", ".parquet", ".txt"]))
def test_any_bytes(tmp_path, data: bytes, suffix: str) -> None:
    path = tmp_path / f"fuzz{suffix}"
    path.write_bytes(data)
    assert verdict(path) in (0, 1, 2)


@FUZZ
@given(cuts=st.lists(st.tuples(st.integers(0, 2000), st.sampled_from(NASTY)), max_size=8),
       truncate=st.integers(0, 3000), crlf=st.booleans())
def test_valid_file_with_nasty_bytes_spliced_in(tmp_path, cuts, truncate: int, crlf: bool) -> None:
    data = bytearray(csv_text(base_rows(), eol="\r\n" if crlf else "\n").encode())
    for at, piece in cuts:
        at = min(at, len(data))
        data[at:at] = piece
    del data[max(truncate, len(COLUMNS) * 3):]  # keep at least a stub of the header
    path = tmp_path / "fuzz.csv"
    path.write_bytes(bytes(data))
    assert verdict(path) in (0, 1, 2)


@FUZZ
@given(chunks=st.lists(st.binary(max_size=64), max_size=6))
def test_truncated_or_spliced_parquet(tmp_path, chunks: list[bytes]) -> None:
    import io

    import polars as pl

    buf = io.BytesIO()
    pl.DataFrame(base_rows(), schema=dict.fromkeys(COLUMNS, pl.Utf8)).write_parquet(buf)
    data = buf.getvalue()
    for i, chunk in enumerate(chunks):
        at = (len(data) * (i + 1)) // (len(chunks) + 1)
        data = data[:at] + chunk + data[at + len(chunk):]
    path = tmp_path / "fuzz.parquet"
    path.write_bytes(data)
    assert verdict(path) in (0, 1, 2)
