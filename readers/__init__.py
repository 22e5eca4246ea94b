"""Input files at the edge: register and event exports (CSV UTF-8/CP932, TSV, Parquet) to frames."""

from readers.tables import read_table

__all__ = ["read_table"]
