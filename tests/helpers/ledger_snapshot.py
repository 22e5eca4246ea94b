"""A whole-ledger fingerprint, to prove a refused command changed nothing."""

from __future__ import annotations

import hashlib

import sqlalchemy as sa

from ledger import open_ledger
from ledger.schema import metadata


def snapshot(url: str) -> str:
    """SHA-256 over every row of every ledger table, in a fixed order."""
    led = open_ledger(url, operator="snapshot")
    digest = hashlib.sha256()
    with led.engine.connect() as conn:
        for table in sorted(metadata.sorted_tables, key=lambda t: t.name):
            digest.update(table.name.encode())
            rows = conn.execute(sa.select(table).order_by(*table.primary_key.columns)).all()
            for row in rows:
                digest.update(repr(tuple(row)).encode())
    led.close()
    return digest.hexdigest()
