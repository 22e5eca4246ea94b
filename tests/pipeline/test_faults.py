"""Fault points do nothing in production; test hooks reach the CLI and its spawned workers."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline import faults
from tests.helpers.fault_hooks import REPO, Faults, fault_env

# a parent that hands one call to a spawned worker, as Prefect's ProcessPoolTaskRunner does
SPAWN_ONE = """
import multiprocessing, sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from pipeline import faults
if __name__ == "__main__":
    faults.install(None)  # only the worker's own start-up may install hooks
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        call = faults.crash_point if sys.argv[1] == "crash" else faults.damage_point
        pool.submit(call, sys.argv[2] if sys.argv[1] == "crash" else Path(sys.argv[2])).result()
    print("survived")
"""


def pdf_in(tmp_path: Path, name: str) -> Path:
    batch = tmp_path / name
    batch.mkdir()
    (batch / "cards.pdf").write_bytes(b"%PDF" + bytes(range(256)) * 4)
    return batch


def run_spawning(args: list[str], hooks: Faults | None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "MYNUMBER_TEST_FAULTS"}
    env = fault_env(env, hooks) if hooks else {**env, "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, "-c", SPAWN_ONE, *args], env=env, cwd=REPO,
                          start_new_session=True, capture_output=True, text=True, timeout=120)


def test_points_do_nothing_without_hooks(tmp_path):
    assert faults.install(None) is None
    batch = pdf_in(tmp_path, "B00001")
    before = (batch / "cards.pdf").read_bytes()
    for point in faults.POINTS:
        faults.crash_point(point)
    faults.damage_point(batch)
    assert (batch / "cards.pdf").read_bytes() == before


def test_an_unknown_point_is_an_error():
    with pytest.raises(ValueError, match="unknown crash point"):
        faults.crash_point("after_lunch")
    with pytest.raises(ValueError, match="unknown crash point"):
        Faults(crash_at="after_lunch")


def test_the_plugin_installs_and_removes_hooks(tmp_path, faults):
    batch, other = pdf_in(tmp_path, "B00002"), pdf_in(tmp_path, "B00003")
    before = (batch / "cards.pdf").read_bytes()
    faults(damage_batch="B00002")
    from pipeline import faults as points

    points.damage_point(other)
    assert (other / "cards.pdf").read_bytes() == before, "damaged a batch it was not asked to"
    points.damage_point(batch)
    damaged = (batch / "cards.pdf").read_bytes()
    assert damaged != before and len(damaged) == len(before)
    faults()
    (batch / "cards.pdf").write_bytes(before)
    points.damage_point(batch)
    assert (batch / "cards.pdf").read_bytes() == before


def test_the_environment_alone_installs_nothing(tmp_path):
    """The old switch (MYNUMBER_CRASH_AT) is gone: a worker with it set lives on."""
    env_before = os.environ.get("MYNUMBER_CRASH_AT")
    os.environ["MYNUMBER_CRASH_AT"] = "mid_render"
    try:
        done = run_spawning(["crash", "mid_render"], None)
    finally:
        os.environ.pop("MYNUMBER_CRASH_AT")
        if env_before is not None:
            os.environ["MYNUMBER_CRASH_AT"] = env_before
    assert done.returncode == 0 and "survived" in done.stdout, done.stderr[-2000:]


def test_a_spawned_worker_kills_the_whole_group_at_the_point():
    done = run_spawning(["crash", "mid_render"], Faults(crash_at="mid_render"))
    assert done.returncode == -signal.SIGKILL, done.stderr[-2000:]
    assert "survived" not in done.stdout
    other = run_spawning(["crash", "after_plan"], Faults(crash_at="mid_render"))
    assert other.returncode == 0 and "survived" in other.stdout, other.stderr[-2000:]


def test_a_spawned_worker_damages_the_named_batch(tmp_path):
    batch = pdf_in(tmp_path, "B00007")
    before = (batch / "cards.pdf").read_bytes()
    done = run_spawning(["damage", str(batch)], Faults(damage_batch="B00007"))
    assert done.returncode == 0, done.stderr[-2000:]
    after = (batch / "cards.pdf").read_bytes()
    assert after != before and bytes(64) in after
