"""core.private and the writers that use it give 0600 files and 0700 new folders even when
the process umask is 022 (a library caller that is not the CLI)."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator

import polars as pl
import pytest

from core.private import create_private_file, private_dir, write_private


@pytest.fixture
def umask_022() -> Iterator[None]:
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def _mode(path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


def test_helpers_are_private_under_umask_022(tmp_path, umask_022):
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o755)
    deep = private_dir(shared / "a" / "b" / "c")
    for folder in (shared / "a", shared / "a" / "b", deep):
        assert _mode(folder) == 0o700
    assert _mode(shared) == 0o755  # an existing folder is left alone (it may be shared)
    write_private(deep / "f.bin", b"x" * 10)
    create_private_file(deep / "g.db")
    assert _mode(deep / "f.bin") == 0o600 and _mode(deep / "g.db") == 0o600
    (deep / "h").write_bytes(b"")
    os.chmod(deep / "h", 0o644)
    write_private(deep / "h", b"again")  # an existing wide file is narrowed
    assert _mode(deep / "h") == 0o600


def test_pipeline_writers_are_private_under_umask_022(tmp_path, umask_022):
    from pipeline.files import write_bytes_atomic, write_csv_atomic, write_parquet_atomic

    frame = pl.DataFrame({"a": [1, 2]})
    write_parquet_atomic(frame, tmp_path / "new" / "x.parquet")
    write_csv_atomic(frame, tmp_path / "new" / "x.csv")
    write_bytes_atomic(tmp_path / "new" / "x.bin", b"1")
    assert _mode(tmp_path / "new") == 0o700
    for name in ("x.parquet", "x.csv", "x.bin"):
        assert _mode(tmp_path / "new" / name) == 0o600
