"""Test helpers shared by every test package: the one loader for test-vector files.

Vector files live in ``tests/vectors/<area>/<name>.txt`` (after pyca/cryptography's vectors
package). The format:

- ``Key = Value`` lines make up a block (a vector); a blank line ends a block. The value is
  everything after the first ``=`` with surrounding whitespace removed, so ``Tweak =`` is an
  empty value. Keys are case-sensitive and must not repeat inside a block.
- ``# source: ...`` lines say where the following vectors come from. A file must have at
  least one before its first vector; a later one applies to the blocks after it.
- Any other line starting with ``#`` is a comment; ``[Section]`` lines set a section name
  that is kept with each following block (for files grouped like NIST's).

>>> blocks = parse_vectors('''
... # source: made up for this example
... Name = a
... Value =
...
... Name = b
... Value = 2
... '''.splitlines())
>>> [(b["Name"], b["Value"], b.source) for b in blocks]
[('a', '', 'made up for this example'), ('b', '2', 'made up for this example')]
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

#: the folder that holds ``<area>/<name>.txt``
VECTORS_DIR = Path(__file__).resolve().parents[1] / "vectors"


class VectorBlock(dict):
    """One vector: its ``Key = Value`` pairs (a dict of str) plus where it came from."""

    def __init__(self, pairs: dict[str, str], *, source: str, file: str, line: int,
                 section: str | None = None) -> None:
        super().__init__(pairs)
        self.source = source
        self.file = file
        self.line = line
        self.section = section

    @property
    def id(self) -> str:
        """A short test id: the block's ``Name``/``Sample``/``Count`` value, else its line."""
        for key in ("Name", "Sample", "Count", "Id"):
            if key in self:
                return f"{key.lower()}-{self[key]}"
        return f"line-{self.line}"

    def __repr__(self) -> str:  # pragma: no cover - debugging aid
        return f"VectorBlock({dict(self)!r}, file={self.file!r}, line={self.line})"


class VectorFormatError(ValueError):
    """A vector file breaks the format above (message names the file and line)."""


def parse_vectors(lines: Iterable[str], *, file: str = "<string>") -> list[VectorBlock]:
    """Parse the lines of a vector file into blocks (see the module docstring)."""
    blocks: list[VectorBlock] = []
    source: str | None = None
    section: str | None = None
    current: dict[str, str] = {}
    start = 0

    def flush() -> None:
        nonlocal current
        if current:
            if source is None:
                raise VectorFormatError(f"{file}:{start}: vector before any '# source:' line")
            blocks.append(VectorBlock(current, source=source, file=file, line=start,
                                      section=section))
        current = {}

    for lineno, raw in enumerate(lines, start=1):
        line = raw.strip()
        if not line:
            flush()
            continue
        if line.startswith("#"):
            body = line[1:].strip()
            if body.lower().startswith("source:"):
                flush()
                source = body[len("source:"):].strip()
                if not source:
                    raise VectorFormatError(f"{file}:{lineno}: empty '# source:' line")
            continue
        if line.startswith("[") and line.endswith("]"):
            flush()
            section = line[1:-1].strip()
            continue
        if "=" not in line:
            raise VectorFormatError(f"{file}:{lineno}: expected 'Key = Value'")
        key, _, value = line.partition("=")
        key = key.strip()
        if not key:
            raise VectorFormatError(f"{file}:{lineno}: empty key")
        if not current:
            start = lineno
        if key in current:
            raise VectorFormatError(f"{file}:{lineno}: key {key!r} repeated in one block")
        current[key] = value.strip()
    flush()
    return blocks


def vector_path(area: str, name: str) -> Path:
    """``tests/vectors/<area>/<name>`` (``.txt`` added when missing)."""
    if not name.endswith(".txt"):
        name += ".txt"
    return VECTORS_DIR / area / name


def load_vectors(area_or_path: str | os.PathLike, name: str | None = None) -> list[VectorBlock]:
    """Load a vector file: ``load_vectors("ff1", "nist_samples")`` or ``load_vectors(path)``."""
    path = vector_path(str(area_or_path), name) if name is not None else Path(area_or_path)
    with open(path, encoding="utf-8") as fh:
        blocks = parse_vectors(fh, file=str(path))
    if not blocks:
        raise VectorFormatError(f"{path}: no vectors")
    return blocks


def vector_params(area: str, name: str):
    """The blocks of a vector file as ``pytest.param`` objects, one test case each."""
    import pytest

    return [pytest.param(block, id=block.id) for block in load_vectors(area, name)]
