"""The CLI contract holds whatever typer/click is installed: the locked one (the rest of
tests/cli), the newest on the index, and an older typer that used the top-level click.

typer 0.29 bundles its own click, so click's exception classes differ between versions;
cli.main recognises them by shape. Each version is installed into a throwaway folder put in
front of sys.path; when the index cannot be reached the test skips and says so.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli.test_contract import mynumber, one_line

pytestmark = pytest.mark.slow

VERSIONS = {
    "newest": ["--upgrade", "typer", "click"],
    "typer-0.15-with-top-level-click-8.1": ["typer==0.15.4", "click==8.1.8"],
}


@pytest.mark.parametrize("name", list(VERSIONS))
def test_usage_errors_and_version_on_other_typer_releases(name, tmp_path):
    target = tmp_path / "site"
    done = subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(target), *VERSIONS[name]],
        capture_output=True, text=True, timeout=240,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot install {name} typer/click (offline?): {done.stderr.strip()[-300:]}")
    env = {"PYTHONPATH": f"{target}:{Path(__file__).resolve().parents[2]}"}
    probe = subprocess.run([sys.executable, "-c", "import typer, click; print(typer.__file__, typer.__version__)"],
                           capture_output=True, text=True, env={**__import__("os").environ, **env}, timeout=60)
    assert str(target) in probe.stdout, probe.stdout + probe.stderr
    for args, flag in ((("bulk", "r.csv"), "--out"), (("bulk", "r.csv", "--out", "o", "--workers", "0"), "--workers"),
                       (("bluk",), "bluk")):
        ran = mynumber(*args, cwd=tmp_path, env=env)
        assert ran.returncode == 2, (probe.stdout, ran.stderr[-1500:])
        assert flag in one_line(ran)
    version = mynumber("--version", cwd=tmp_path, env=env)
    assert version.returncode == 0 and version.stdout.startswith("mynumber ")
