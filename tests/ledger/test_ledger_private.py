"""The SQLite ledger (with its -wal and -shm) and ledger exports hold every full number:
0600 in 0700 folders, whatever the umask."""

from __future__ import annotations

import os
import stat

from ledger import numbers, open_ledger, reporting, runs
from tests.helpers.ledger_data import number_frame


def _mode(path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


def test_sqlite_ledger_and_export_are_private_under_umask_022(tmp_path):
    old = os.umask(0o022)
    try:
        led = open_ledger(f"sqlite:///{tmp_path / 'data' / 'ledger.db'}", operator="t", create=True)
        run = runs.start(led, "test", "0" * 64, {})
        numbers.commit(led, run, number_frame(1, 5), "k")
        assert reporting.export(led, tmp_path / "out" / "all.parquet", reason="test") == 5
        files = [tmp_path / "data" / n for n in ("ledger.db", "ledger.db-wal", "ledger.db-shm")]
        files.append(tmp_path / "out" / "all.parquet")
        for path in files:
            assert path.exists() and _mode(path) == 0o600, (path.name, oct(_mode(path)))
        assert _mode(tmp_path / "data") == 0o700 and _mode(tmp_path / "out") == 0o700
        led.close()
    finally:
        os.umask(old)


def test_a_read_only_folder_is_one_clear_error(tmp_path):
    import pytest

    from core.errors import LedgerError

    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    if os.access(locked, os.W_OK):  # root ignores modes: use a file where a folder should be
        (tmp_path / "file").write_text("x")
        target = tmp_path / "file" / "ledger.db"
    else:
        target = locked / "ledger.db"
    with pytest.raises(LedgerError, match="cannot create the ledger file"):
        open_ledger(f"sqlite:///{target}", operator="unknown", create=True)
