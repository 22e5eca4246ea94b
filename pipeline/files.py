"""Small file helpers shared by the stages: atomic writes, hashing, JSON state.

Every file a stage writes appears whole or not at all (temp file + rename), so a run
killed at any moment leaves nothing that a resumed run could mistake for finished work.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

import polars as pl

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
    path.parent.mkdir(parents=True, exist_ok=True)
    return tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")


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
