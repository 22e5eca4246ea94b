"""Versioned ledger migrations: one file per schema revision, never edited once released."""
