"""Alembic environment for the ledger: always runs on a connection handed in by ledger.migrate.

No logging configuration and no alembic.ini: the ledger is used as an installed package,
so the configuration is built in code and the connection (with its SQLite pragmas and
BEGIN IMMEDIATE, or a PostgreSQL advisory lock) comes from the caller.
"""

from __future__ import annotations

from alembic import context

from ledger.schema import metadata

config = context.config
connection = config.attributes.get("connection")
if connection is None:  # pragma: no cover - only reached when someone runs the alembic CLI
    raise RuntimeError("run ledger migrations through ledger.migrate.upgrade(url)")

context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    transactional_ddl=True,
)
with context.begin_transaction():
    context.run_migrations()
