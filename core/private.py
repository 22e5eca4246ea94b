"""Private files: whatever holds a full My Number or a resident's data is 0600 in folders 0700.

The CLI sets ``umask 077`` first thing (worker processes inherit it); these helpers make
the modes explicit where files are created, so a library caller under umask 022 gets the
same: files are created 0600 (never briefly wider) and folders this program creates are
0700. Folders that already exist are left as they are (an operator's /srv may be shared).
"""

from __future__ import annotations

import os
from pathlib import Path

PRIVATE_FILE = 0o600
PRIVATE_DIR = 0o700
#: the umask the CLI sets: group and others get nothing
PRIVATE_UMASK = 0o077


def private_dir(path: str | os.PathLike[str]) -> Path:
    """Create ``path`` and any missing parents as 0700 (existing folders are not touched)."""
    path = Path(path)
    missing: list[Path] = []
    probe = path
    while not probe.exists():
        missing.append(probe)
        if probe.parent == probe:
            break
        probe = probe.parent
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=PRIVATE_DIR)
        except FileExistsError:
            continue  # created meanwhile by another process: theirs to set
        os.chmod(folder, PRIVATE_DIR)  # exact, whatever the umask
    return path


def open_private(path: str | os.PathLike[str], flags: int = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
                 ) -> int:
    """``os.open`` a file with mode 0600 from its creation (and 0600 if it existed)."""
    fd = os.open(path, flags | getattr(os, "O_CLOEXEC", 0), PRIVATE_FILE)
    try:
        os.fchmod(fd, PRIVATE_FILE)
    except BaseException:
        os.close(fd)
        raise
    return fd


def create_private_file(path: str | os.PathLike[str]) -> None:
    """Make sure ``path`` exists as an empty 0600 file (e.g. a SQLite database before SQLite
    opens it: SQLite then gives its -wal and -shm files the same mode)."""
    os.close(open_private(path, os.O_WRONLY | os.O_CREAT))


def write_private(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to a new or truncated 0600 file and fsync it."""
    fd = open_private(path)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
        os.fsync(fd)
    finally:
        os.close(fd)
