"""My Number issuance pipeline: application shell (CLI, keys, errors, file I/O at the edges)."""

__version__ = "0.1.0"
