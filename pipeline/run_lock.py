"""A run holds its ledger and its run folder for its whole life.

The ledger's run lock (``ledger.locks``) keeps two runs from interleaving registered-mail
allocations. The run folder's lock (``flock`` on ``OUT/.mynumber-run.lock``, released by
the kernel when the process dies, however it dies) keeps two runs on different ledgers
from writing the same batches. Both are taken after preflight and before the first write.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from ledger import open_ledger
from ledger.locks import RunInProgress, RunLock
from pipeline.options import RunOptions

OUT_LOCK_NAME = ".mynumber-run.lock"


class OutFolderLock:
    """An exclusive flock on the run folder's lock file (non-blocking, or polling with wait)."""

    def __init__(self, out_dir: Path, run_name: str, operator: str) -> None:
        self.path = out_dir / OUT_LOCK_NAME
        self.run_name, self.operator = run_name, operator
        self._fh: IO[str] | None = None

    def acquire(self, *, wait: bool = False, poll_s: float = 2.0) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fh = self.path.open("a+", encoding="utf-8")
        while True:
            try:
                fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if not wait:
                    holder = self._describe(fh)
                    fh.close()
                    raise RunInProgress(
                        f"run folder {self.path.parent} is in use: {holder}; wait for it to finish, "
                        "or add --wait") from None
                time.sleep(poll_s)
        fh.seek(0)
        fh.truncate()
        fh.write(json.dumps({"run_name": self.run_name, "operator": self.operator,
                             "pid": os.getpid(), "host": socket.gethostname(),
                             "since": datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S")}) + "\n")
        fh.flush()
        self._fh = fh

    @staticmethod
    def _describe(fh: IO[str]) -> str:
        try:
            fh.seek(0)
            info = json.loads(fh.read() or "{}")
            return (f"run {info['run_name']} by {info['operator']} since {info['since']} UTC "
                    f"is in progress (host {info['host']}, pid {info['pid']})")
        except (ValueError, KeyError, OSError):
            return "another run holds it"

    def release(self) -> None:
        if self._fh is not None:
            try:
                fcntl.flock(self._fh.fileno(), fcntl.LOCK_UN)
            finally:
                self._fh.close()
                self._fh = None


@contextmanager
def hold_run(opts: RunOptions, run_name: str, *, wait: bool = False) -> Iterator[RunLock]:
    """Hold the run folder and the ledger for one run (RunInProgress, exit 2, when taken)."""
    out = Path(opts.out_dir).absolute()
    ledger = open_ledger(opts.ledger.url, operator=opts.ledger.operator, create=True)
    try:
        lock = RunLock(ledger, run_name, str(out))
        lock.acquire(wait=wait)  # first: a run refused here has written nothing in its folder
        try:
            folder = OutFolderLock(out, run_name, opts.ledger.operator)
            folder.acquire(wait=wait)
            try:
                yield lock
            finally:
                folder.release()
        finally:
            lock.release()
    finally:
        ledger.close()
