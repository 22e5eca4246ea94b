"""Small file helpers shared by the stages: atomic writes, hashing, JSON state.

Every file a stage writes appears whole or not at all (temp file + rename), so a run
killed at any moment leaves nothing that a resumed run could mistake for finished work.
"""

from __future__ import annotations

import csv
import errno
import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

import polars as pl

from core.private import PRIVATE_FILE, private_dir
from transforms.csv_cells import join_list_cell, neutralise_cell

HASH_CHUNK = 1 << 20


def sha256_file(path: Path) -> str:
    """Hex SHA-256 of a file, streamed (registers can be hundreds of MB)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(HASH_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _atomic_target(path: Path) -> tuple[int, str]:
    """A temp file beside ``path``: mkstemp creates it 0600 (core.private), in a 0700 folder
    when the folder is new; os.replace keeps that mode on the final name."""
    private_dir(path.parent)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.fchmod(fd, PRIVATE_FILE)
    return fd, tmp


def write_bytes_atomic(path: Path, data: bytes) -> None:
    fd, tmp = _atomic_target(path)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_json_atomic(path: Path, payload: Any) -> None:
    text = json.dumps(payload, ensure_ascii=False, indent=2, sort_keys=True, default=str)
    write_bytes_atomic(path, (text + "\n").encode("utf-8"))


def read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def write_parquet_atomic(frame: pl.DataFrame, path: Path) -> None:
    fd, tmp = _atomic_target(path)
    os.close(fd)
    try:
        frame.write_parquet(tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def csv_cell(value: object) -> object:
    """Stop a spreadsheet from reading a cell, or a ``;`` part of it, as a formula
    (transforms.csv_cells); lists are written as one joined, neutralised cell."""
    if isinstance(value, str):
        return neutralise_cell(value)
    if isinstance(value, list | tuple):
        return join_list_cell(None if v is None else str(v) for v in value)
    return value


def write_csv_atomic(frame: pl.DataFrame, path: Path) -> None:
    """UTF-8 CSV with a BOM (Excel opens Japanese text correctly) and neutralised cells."""
    fd, tmp = _atomic_target(path)
    try:
        with os.fdopen(fd, "w", encoding="utf-8-sig", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(frame.columns)
            for row in frame.iter_rows():
                writer.writerow([csv_cell(v) for v in row])
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


#: what an operator reads for the OS errors a run meets (never the class name alone)
OS_ERROR_WORDS: dict[int, str] = {
    errno.ENOSPC: "disk full (no space left on the device)",
    errno.EDQUOT: "disk quota exceeded",
    errno.EFBIG: "file too large for this system's limit",
    errno.EACCES: "permission denied",
    errno.EPERM: "operation not permitted",
    errno.EROFS: "read-only file system",
    errno.ENOTDIR: "not a folder (a file is in the way)",
    errno.EISDIR: "is a folder, not a file",
    errno.EEXIST: "already exists (a file is in the way of a folder?)",
    errno.ENOENT: "no such file or folder",
    errno.EIO: "input/output error (disk or network storage)",
}


def describe_os_error(exc: OSError) -> str:
    """The cause in words plus the path it concerns, e.g. "disk full (...) at /runs/x/cards.pdf"."""
    words = OS_ERROR_WORDS.get(exc.errno or -1, exc.strerror or type(exc).__name__)
    where = exc.filename if isinstance(exc.filename, str) else None
    return f"{words} at {where}" if where else words
