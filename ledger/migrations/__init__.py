"""Alembic migrations of the ledger, run from code by ledger.migrate (no alembic.ini needed)."""
