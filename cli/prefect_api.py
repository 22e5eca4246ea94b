"""Exactly one Prefect API per run, started by the CLI and gone when the run ends.

Left to itself, Prefect 3 starts a temporary ("ephemeral") API server in every process
that needs one and finds none configured: the flow's process and each worker of a process
pool (issue 13 saw three for one run, two racing for one port). Each takes ~20 s to start
on a busy machine, Prefect's limit is 20 s, and the run died. So the CLI:

- reuses ``PREFECT_API_URL`` when the operator set one (an audited server), or else
- starts one server subprocess (the same uvicorn command Prefect's ephemeral server uses),
  waits for its health endpoint up to ``runner.api_start_timeout_s`` (120 s by default),
  and exports ``PREFECT_API_URL`` so this process and every worker it starts (process
  pools inherit the environment, local Dask workers too) talk to that one server;
- keeps the server's state in the project's Prefect home (``runner.prefect_home``,
  default ``mynumber-data/prefect``), never ``~/.prefect``;
- stops it when the run ends, fails or is interrupted. When the CLI itself is killed
  (SIGKILL), the kernel sends the server SIGTERM (``PR_SET_PDEATHSIG``), and a pid file
  per server lets the next run stop any server whose CLI is gone.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from core.errors import ConfigError
from core.processes import pid_alive

#: what identifies a Prefect API server process on its command line
SERVER_APP = "prefect.server.api.server:create_app"
_PR_SET_PDEATHSIG = 1


def server_command(port: int) -> list[str]:
    """The uvicorn command Prefect's own temporary server runs (UI off)."""
    return [sys.executable, "-m", "uvicorn", "--factory", SERVER_APP, "--host", "127.0.0.1",
            "--port", str(port), "--log-level", "error", "--lifespan", "on"]


def _die_with_parent(parent: int) -> Callable[[], None]:
    """preexec_fn: SIGTERM this child when the CLI dies, even by SIGKILL (Linux)."""

    def setup() -> None:
        with contextlib.suppress(Exception):
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
        if os.getppid() != parent:  # the parent died before prctl took effect
            os._exit(1)

    return setup


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def healthy(api_url: str, timeout: float = 2.0) -> bool:
    try:
        with urllib.request.urlopen(f"{api_url}/health", timeout=timeout) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError, ValueError):
        return False


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def _stop(pid: int, grace_s: float = 10.0) -> None:
    """SIGTERM the server's process group, then SIGKILL what is left after ``grace_s``."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, sig)
        deadline = time.monotonic() + grace_s
        while time.monotonic() < deadline:
            if not pid_alive(pid):
                return
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, os.WNOHANG)
            time.sleep(0.1)


def clean_stale_servers(home: Path) -> list[int]:
    """Stop servers recorded under ``home`` whose CLI process is gone; returns their pids."""
    stopped = []
    for record in sorted((home / "servers").glob("*.json")):
        try:
            info = json.loads(record.read_text(encoding="utf-8"))
            pid, parent = int(info["pid"]), int(info["parent"])
        except (OSError, ValueError, KeyError):
            record.unlink(missing_ok=True)
            continue
        if pid_alive(parent) and parent != os.getpid():
            continue  # another run's live server
        if pid_alive(pid) and SERVER_APP in _cmdline(pid):
            _stop(pid)
            stopped.append(pid)
        record.unlink(missing_ok=True)
    return stopped


def _flush_logs() -> None:
    """Send the run's last log lines before the server goes (else: "Error logging to API")."""
    if "prefect" not in sys.modules:
        return
    with contextlib.suppress(Exception):
        from prefect.logging.handlers import APILogHandler

        APILogHandler().flush()  # drains the API log worker (waits up to 5 s)


@contextmanager
def _in_this_process(api_url: str) -> Iterator[None]:
    """Point this process at the server: the environment (read by Prefect when it is imported,
    and inherited by workers) and, when Prefect is imported already, its settings.

    Both the current context and the process-wide one: ``temporary_settings`` lives in a
    context variable, which a new thread does not inherit. Prefect's own threads in the
    flow process (futures, events) then saw no API URL and started a second, temporary
    server mid-run: measured at 15 s of CPU taken from the workers in a 100,000-resident
    benchmark that imported the flows before starting the API.
    """
    prior = os.environ.get("PREFECT_API_URL")
    os.environ["PREFECT_API_URL"] = api_url
    saved_global = None
    try:
        if "prefect" not in sys.modules:
            yield
            return
        import prefect.context
        from prefect.settings import PREFECT_API_URL, temporary_settings

        saved_global = prefect.context.GLOBAL_SETTINGS_CONTEXT
        # rebuilt from os.environ, which now has the URL; the exact object is put back after
        prefect.context.GLOBAL_SETTINGS_CONTEXT = prefect.context.root_settings_context()
        with temporary_settings(updates={PREFECT_API_URL: api_url}):
            yield
    finally:
        _flush_logs()  # while the server is still the one Prefect talks to
        if prior is None:
            os.environ.pop("PREFECT_API_URL", None)
        else:
            os.environ["PREFECT_API_URL"] = prior
        if saved_global is not None:
            import prefect.context

            prefect.context.GLOBAL_SETTINGS_CONTEXT = saved_global


@contextmanager
def prefect_api(prefect_home: str, start_timeout_s: float = 120.0) -> Iterator[str]:
    """The one Prefect API of this run: reused from PREFECT_API_URL, or started and stopped here."""
    home = Path(prefect_home).absolute()
    home.mkdir(parents=True, exist_ok=True)
    os.environ["PREFECT_HOME"] = str(home)
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    given = os.environ.get("PREFECT_API_URL", "").strip()
    if given:
        yield given
        return
    clean_stale_servers(home)
    (home / "servers").mkdir(exist_ok=True)
    log_path = home / "server.log"
    env = {**os.environ, "PREFECT_UI_ENABLED": "0", "PREFECT__SERVER_EPHEMERAL": "1",
           "PREFECT__SERVER_FINAL": "1", "PREFECT_LOGGING_LEVEL": "WARNING"}
    port = free_port()
    with log_path.open("ab") as log_file:
        proc = subprocess.Popen(
            server_command(port), env=env, stdin=subprocess.DEVNULL, stdout=log_file, stderr=log_file,
            start_new_session=True, preexec_fn=_die_with_parent(os.getpid()),
        )
    record = home / "servers" / f"{proc.pid}.json"
    record.write_text(json.dumps({"pid": proc.pid, "parent": os.getpid(), "port": port}), encoding="utf-8")
    api_url = f"http://127.0.0.1:{port}/api"
    try:
        deadline = time.monotonic() + start_timeout_s
        while not healthy(api_url):
            if proc.poll() is not None:
                raise ConfigError(f"the Prefect API server exited at start (code {proc.returncode}); "
                                  f"see {log_path}")
            if time.monotonic() > deadline:
                raise ConfigError(
                    f"the Prefect API server did not answer within {start_timeout_s:.0f} s; the machine "
                    "is very busy: raise runner.api_start_timeout_s or set PREFECT_API_URL to a running "
                    f"server (log: {log_path})")
            time.sleep(0.25)
        with _in_this_process(api_url):
            yield api_url
    finally:
        _stop(proc.pid)
        with contextlib.suppress(ChildProcessError):
            proc.wait(timeout=1)
        record.unlink(missing_ok=True)
