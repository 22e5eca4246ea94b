"""What file keys (core.keys) and token keys (core.hsm) share: the key check value block,
key ids that hold no secret, and reading a secret file only its owner may read.

Its own module so that imports point one way: core.hsm and core.keys both use it, and
core.keys (which opens either kind of key) imports core.hsm, never the reverse.
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
from pathlib import Path

from core.errors import KeyFileError

#: a key id: short, printable, no secret in it (checked against the key by `validate_key_id`)
KEY_ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{2,63}")
#: a run of this many hex digits of the key inside a key id refuses the id
_LEAK_RUN = 8
#: the plaintext block of the key check value (docs/architecture.md, Keys)
KCV_BLOCK = hashlib.sha256(b"mynumber key check value v1").digest()[:16]
KCV_BYTES = 8


def validate_key_id(key_id: object, secret_hex: str | None = None, *, where: str = "key") -> str:
    """The key id if it is well-formed and holds no part of the key; `KeyFileError` otherwise.

    Format: 3–64 characters of letters, digits and ``. _ : -``, starting with a letter or
    digit (e.g. ``k-2026-11-26-3f9a1c``). With ``secret_hex``: refused when it contains any
    run of 8 or more hex digits that appears in the key (so never the key, nor a piece of it)."""
    if not isinstance(key_id, str) or not KEY_ID_PATTERN.fullmatch(key_id):
        raise KeyFileError(f"{where}: key_id must be 3-64 letters, digits or . _ : - "
                           "(e.g. k-2026-11-26-3f9a1c)")
    if secret_hex is not None:
        low = secret_hex.lower()
        for run in re.findall(rf"[0-9a-fA-F]{{{_LEAK_RUN},}}", key_id):
            run = run.lower()
            if any(run[i:i + _LEAK_RUN] in low for i in range(len(run) - _LEAK_RUN + 1)):
                raise KeyFileError(f"{where}: key_id contains part of the key itself; "
                                   "a key id must be independent of the secret")
    return key_id


def read_owner_only(path: str | os.PathLike[str], what: str, *, missing_hint: str = "",
                    max_bytes: int = 64 * 1024) -> bytes:
    """The bytes of a secret file (a key file, a PIN file) that only its owner may read.

    Refused with `KeyFileError` naming ``what``: missing, not a regular file (a FIFO planted
    at the path must not hang the run: O_NONBLOCK, then fstat), readable by group or others,
    or larger than ``max_bytes``. Never quotes the contents.
    """
    path = Path(path)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise KeyFileError(f"{what} {path} not found{missing_hint}") from None
    except OSError as exc:
        raise KeyFileError(f"cannot open {what} {path}: "
                           f"{exc.strerror or type(exc).__name__}") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise KeyFileError(f"{what} {path} is not a regular file")
        if st.st_mode & 0o077:
            raise KeyFileError(
                f"{what} {path} is accessible by group or others "
                f"(mode {stat.S_IMODE(st.st_mode):04o}); refusing to use it. "
                f"Run: chmod 600 {path}")
        if st.st_size > max_bytes:
            raise KeyFileError(f"{what} {path} is too large to be a {what}")
        raw = b""
        while chunk := os.read(fd, 65536):
            raw += chunk
    finally:
        os.close(fd)
    return raw
