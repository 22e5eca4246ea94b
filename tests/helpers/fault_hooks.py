"""The test side of pipeline.faults: hooks that kill a run or damage a batch at a named point.

Three ways in, one set of hooks (``Faults``):
- in-process runs (the flow tests): the ``faults`` fixture of the pytest plugin
  ``tests.helpers.fault_plugin`` (registered in tests/conftest.py);
- a CLI subprocess: ``cli_command`` builds the command line of ``tests.helpers.fault_launcher``,
  which installs the hooks and then runs ``cli.main``;
- that CLI's worker processes (spawned, so they inherit nothing but the environment): the
  launcher puts tests/helpers/fault_site on PYTHONPATH, whose ``sitecustomize`` installs the
  same hooks at interpreter start-up from ``FAULTS_ENV``, which only test code sets or reads.
"""

from __future__ import annotations

import json
import os
import signal
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

from pipeline import faults

FAULTS_ENV = "MYNUMBER_TEST_FAULTS"
REPO = Path(__file__).resolve().parents[2]
SITE_DIR = Path(__file__).resolve().parent / "fault_site"


@dataclass(frozen=True)
class Faults:
    """Kill the whole process group at ``crash_at``; zero 64 bytes of ``damage_batch``'s PDF."""

    crash_at: str | None = None
    damage_batch: str | None = None

    def __post_init__(self) -> None:
        if self.crash_at is not None and self.crash_at not in faults.POINTS:
            raise ValueError(f"unknown crash point {self.crash_at}")

    def crash(self, point: str) -> None:
        """SIGKILL to the group (flow process, workers, Prefect server): no clean-up runs,
        exactly like a power cut or the OOM killer."""
        if point == self.crash_at:
            os.killpg(os.getpgid(0), signal.SIGKILL)

    def damage(self, batch_dir: Path) -> None:
        """A zeroed run in the middle of cards.pdf, as a bad sector leaves it."""
        pdf = batch_dir / "cards.pdf"
        if batch_dir.name != self.damage_batch or not pdf.exists():
            return
        data = bytearray(pdf.read_bytes())
        middle = len(data) // 2
        data[middle:middle + 64] = bytes(64)
        pdf.write_bytes(bytes(data))

    def to_env(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_env(cls, text: str) -> Faults:
        return cls(**json.loads(text))


def install_from_environment() -> None:
    """Install the hooks ``FAULTS_ENV`` describes (the launcher and its workers call this)."""
    text = os.environ.get(FAULTS_ENV)
    if text:
        faults.install(Faults.from_env(text))


def fault_env(env: dict[str, str], hooks: Faults) -> dict[str, str]:
    """``env`` for a Python process whose every descendant installs ``hooks`` at start-up."""
    paths = [str(SITE_DIR), str(REPO), *filter(None, env.get("PYTHONPATH", "").split(os.pathsep))]
    return {**env, FAULTS_ENV: hooks.to_env(), "PYTHONPATH": os.pathsep.join(paths)}


def cli_command(args: list[str], env: dict[str, str], hooks: Faults | None = None) -> tuple[list[str], dict[str, str]]:
    """The command line and environment of `mynumber ARGS` with ``hooks`` installed in the
    CLI process and in every Python process it starts (workers, Prefect server)."""
    env = {key: value for key, value in env.items() if key != FAULTS_ENV}
    if hooks is None:
        return [sys.executable, "-m", "cli.main", *args], env
    return [sys.executable, "-m", "tests.helpers.fault_launcher", *args], fault_env(env, hooks)
