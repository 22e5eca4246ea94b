"""The CLI contract holds whatever typer/click is installed: the locked one (the rest of
tests/cli) and an older typer that used the top-level click.

typer 0.29 bundles its own click, so click's exception classes differ between versions;
cli.main recognises them by shape. `make venv` installs the older pair (pinned with hashes in
tests/cli/typer-0.15.lock) into .venv/alt-typer-0.15 once, so this test needs no network; a
missing folder fails the test (it never skips), naming the command that makes it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli.test_contract import mynumber, one_line

pytestmark = pytest.mark.slow

ALT_TYPER = Path(sys.prefix) / "alt-typer-0.15"
LOCK = Path(__file__).with_name("typer-0.15.lock")


def _pinned(package: str) -> str:
    """The version the lock file pins for ``package``."""
    for line in LOCK.read_text().splitlines():
        if line.startswith(f"{package}=="):
            return line.split("==", 1)[1].split()[0]
    raise AssertionError(f"{package} not pinned in {LOCK}")


def test_usage_errors_and_version_on_typer_with_top_level_click(tmp_path):
    assert (ALT_TYPER / "typer").is_dir(), f"{ALT_TYPER} missing: run `make venv` (installs {LOCK.name})"
    env = {"PYTHONPATH": f"{ALT_TYPER}:{Path(__file__).resolve().parents[2]}"}
    probe = subprocess.run(
        [sys.executable, "-c", "import typer, click; print(typer.__file__, typer.__version__, click.__version__)"],
        capture_output=True, text=True, env={**os.environ, **env}, timeout=60)
    where, typer_version, click_version = probe.stdout.split()
    assert where.startswith(str(ALT_TYPER)), probe.stdout + probe.stderr
    assert (typer_version, click_version) == (_pinned("typer"), _pinned("click"))
    for args, flag in ((("bulk", "r.csv"), "--out"), (("bulk", "r.csv", "--out", "o", "--workers", "0"), "--workers"),
                       (("bluk",), "bluk")):
        ran = mynumber(*args, cwd=tmp_path, env=env)
        assert ran.returncode == 2, (probe.stdout, ran.stderr[-1500:])
        assert flag in one_line(ran)
    version = mynumber("--version", cwd=tmp_path, env=env)
    assert version.returncode == 0 and version.stdout.startswith("mynumber ")
