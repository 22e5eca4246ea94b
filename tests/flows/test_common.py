"""Stage failures name the cause in words and leave no temporary file behind."""

from __future__ import annotations

import errno
import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest

from flows.common import StageFailed, guarded
from layouts.batch import _write_atomic
from pipeline.files import describe_os_error, write_bytes_atomic
from tests.helpers.disks import tmpfs


@pytest.fixture
def tiny_disk(tmp_path):
    with tmpfs(tmp_path / "tiny", "size=64k") as where:
        yield where


@pytest.fixture
def read_only_disk(tmp_path):
    with tmpfs(tmp_path / "ro", "ro,size=64k") as where:
        yield where


@pytest.mark.parametrize("writer", [_write_atomic, write_bytes_atomic], ids=["batch", "work-file"])
def test_disk_full_is_said_in_words_and_no_temp_file_survives(tiny_disk, writer):
    target = tiny_disk / "cards.pdf"
    with pytest.raises(StageFailed) as failed:
        guarded("render")(writer)(target, b"%" * 1_000_000)
    assert str(failed.value).startswith("stage render failed: disk full")
    assert list(tiny_disk.iterdir()) == []


def test_read_only_folder_is_said_in_words(read_only_disk):
    with pytest.raises(StageFailed, match="stage render failed: read-only file system"):
        guarded("render")(_write_atomic)(read_only_disk / "cards.pdf", b"x")


def test_not_a_folder_and_permission_denied(tmp_path):
    (tmp_path / "batches").write_text("")
    with pytest.raises(StageFailed, match="not a folder"):
        guarded("render")(_write_atomic)(tmp_path / "batches" / "cards.pdf", b"x")
    assert "permission denied" in describe_os_error(PermissionError(errno.EACCES, "x", "/runs/a"))


def test_file_size_limit_is_said_in_words_and_no_temp_file_survives(tmp_path):
    """RLIMIT_FSIZE (a quota-like limit): the write fails with EFBIG, not a signal."""
    code = ("import sys; from flows.common import guarded; from layouts.batch import _write_atomic\n"
            "from pathlib import Path\n"
            "try:\n guarded('render')(_write_atomic)(Path(sys.argv[1]), b'x' * 2_000_000)\n"
            "except Exception as e:\n print(e)\n")

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (100_000, 100_000))

    done = subprocess.run([sys.executable, "-c", code, str(tmp_path / "cards.pdf")], capture_output=True,
                          text=True, preexec_fn=limit, cwd=Path(__file__).resolve().parents[2],
                          env={**os.environ}, timeout=120)
    assert "stage render failed: file too large" in done.stdout, done.stdout + done.stderr
    assert list(tmp_path.iterdir()) == []


@pytest.mark.xdist_group("prefect")
def test_a_failed_qa_ends_the_flow_failed_and_the_caller_still_gets_the_report(prefect_api, tmp_path):
    from prefect import flow

    from flows.common import call_flow, outcome
    from tests.helpers.flow_runs import make_opts

    report = {"run_id": "run-x", "qa": {"verdict": "fail", "failed_batches": ["B00002"]}}

    @flow(name="qa-outcome-probe", persist_result=False)
    def probe(verdict: str) -> object:
        return outcome({**report, "qa": {**report["qa"], "verdict": verdict}})

    key = tmp_path / "key.json"
    from core.keys import generate_key_file

    generate_key_file(key, demo=True)
    opts = make_opts(tmp_path, key, runner={"workers": 1})
    got = call_flow(probe, opts, "bulk-2026-11-26-probe.csv", "fail")
    assert got["qa"]["failed_batches"] == ["B00002"]
    state = probe.with_options(flow_run_name="x")("fail", return_state=True)
    assert state.is_failed() and "print QA failed (1 batch(es))" in state.message
    assert call_flow(probe, opts, None, "pass")["qa"]["verdict"] == "pass"
