"""A separate process that writes to a ledger, for the concurrency and SIGKILL tests.

    python ledger_worker.py commit URL START N [BARRIER]   -> commits number_frame(START, N)
    python ledger_worker.py allocate URL N [BARRIER]       -> allocates N tracking numbers

With BARRIER (a file path), the worker says "ready" and waits until that file exists, so two
workers start writing at the same moment. Progress lines go to stdout, one JSON result last.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parents[1])]  # the repository root, for `tests` and our packages

from ledger import (  # noqa: E402
    mailings,
    open_ledger,
    runs,
)
from ledger import numbers as ledger_numbers  # noqa: E402
from tests.helpers.ledger_data import number_frame  # noqa: E402


def _say(line: str) -> None:
    print(line, flush=True)


def _wait(barrier: str | None) -> None:
    if not barrier:
        return
    _say("ready")
    deadline = time.monotonic() + 60
    while not Path(barrier).exists():
        if time.monotonic() > deadline:
            raise SystemExit("barrier never opened")
        time.sleep(0.01)


def main(argv: list[str]) -> None:
    action, url = argv[0], argv[1]
    ledger = open_ledger(url, operator=f"worker-{action}", create=True)
    if action == "commit":
        start, n = int(argv[2]), int(argv[3])
        frame = number_frame(start, n)
        run_id = runs.start(ledger, "daily", f"{start:064d}", {"start": start, "n": n})
        _wait(argv[4] if len(argv) > 4 else None)
        _say("committing")
        result = ledger_numbers.commit(ledger, run_id, frame, "k-worker")
        _say("committed")
        runs.finish(ledger, run_id, "succeeded", {"inserted": result.inserted,
                                                "already_present": result.already_present})
        _say(json.dumps({"run_id": run_id, "inserted": result.inserted,
                         "already_present": result.already_present}))
    elif action == "allocate":
        n = int(argv[2])
        _wait(argv[3] if len(argv) > 3 else None)
        numbers = mailings.allocate(ledger, n, configured_range="3606000000-3606999999")
        _say(json.dumps({"numbers": numbers}))
    else:
        raise SystemExit(f"unknown action {action}")


if __name__ == "__main__":
    main(sys.argv[1:])
