"""Moving frames in and out of the ledger in bulk: staging tables, COPY, executemany.

Every bulk write goes through a temporary staging table inside the writing transaction:
the frame is loaded in one go (COPY on PostgreSQL, one executemany on SQLite), and the
checks and the insert are then set-based SQL against the real tables. The staging table is
created and dropped inside the same transaction, so a rollback or a killed process leaves
nothing behind.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeAlias, cast

import polars as pl
import polars.selectors as cs
import sqlalchemy as sa
from sqlalchemy.engine import Connection

if TYPE_CHECKING:
    import psycopg

#: a column type as sa.Column takes it: an instance (``sa.String(11)``) or a class (``sa.Integer``)
ColumnType: TypeAlias = sa.types.TypeEngine[Any] | type[sa.types.TypeEngine[Any]]
#: a polars schema as callers write it: dtype classes (``pl.Utf8``) or instances (``pl.Datetime("us")``)
FrameSchema: TypeAlias = Mapping[str, pl.DataType | type[pl.DataType]]

#: rows per COPY chunk (bounds the memory of the CSV text)
_COPY_CHUNK = 200_000


def stage_table(name: str, columns: Mapping[str, ColumnType]) -> sa.Table:
    """A TEMPORARY table definition (not yet created) for one bulk operation."""
    return sa.Table(
        name,
        sa.MetaData(),
        *(sa.Column(col, typ) for col, typ in columns.items()),
        prefixes=["TEMPORARY"],
        postgresql_on_commit="DROP",
    )


def create_and_load(conn: Connection, table: sa.Table, frame: pl.DataFrame) -> None:
    """Create the staging table and load the frame's columns into it."""
    table.drop(conn, checkfirst=True)
    table.create(conn)
    load(conn, table, frame)
    if conn.dialect.name == "postgresql":
        # autovacuum never analyses temporary tables: without statistics the planner guesses
        # a tiny table and may probe 740,000 rows one index lookup at a time
        conn.exec_driver_sql(f"ANALYZE {table.name}")


def load(conn: Connection, table: sa.Table, frame: pl.DataFrame) -> None:
    """Append a frame to a table in bulk: COPY on PostgreSQL, one executemany on SQLite."""
    if frame.height == 0:
        return
    cols = [c.name for c in table.columns]
    data = frame.select(cols)
    if conn.dialect.name == "postgresql":
        _copy_in(conn, table.name, cols, data)
    else:
        # sqlite3 adapts str/int/float natively; dates as ISO text (what SQLAlchemy reads back)
        data = data.with_columns(
            cs.date().dt.to_string("%Y-%m-%d"),
            cs.datetime().dt.convert_time_zone("UTC").dt.replace_time_zone(None)
            .dt.to_string("%Y-%m-%d %H:%M:%S.%6f"),
        )
        marks = ", ".join("?" for _ in cols)
        conn.exec_driver_sql(
            f"INSERT INTO {table.name} ({', '.join(cols)}) VALUES ({marks})", data.rows()
        )


def _copy_in(conn: Connection, name: str, cols: list[str], data: pl.DataFrame) -> None:
    """COPY a frame into a table through psycopg 3, on the transaction's own connection."""
    # postgresql always runs on psycopg 3 (engine.resolve_url), and a connection inside a
    # transaction always has its driver connection: never None here
    raw = cast("psycopg.Connection[Any]", conn.connection.driver_connection)
    sql = f"COPY {name} ({', '.join(cols)}) FROM STDIN (FORMAT csv)"
    with raw.cursor() as cursor, cursor.copy(sql) as copy:
        for chunk in data.iter_slices(_COPY_CHUNK):
            copy.write(chunk.write_csv(include_header=False).encode("utf-8"))


def drop(conn: Connection, table: sa.Table) -> None:
    """Drop a staging table (inside the transaction that made it)."""
    table.drop(conn, checkfirst=True)


def fetch_frame(conn: Connection, stmt: sa.Executable, schema: FrameSchema) -> pl.DataFrame:
    """Run a select and return its rows as a polars frame with a fixed schema."""
    rows = conn.execute(stmt).all()
    return pl.DataFrame(rows, schema=schema, orient="row")


def count(conn: Connection, stmt: sa.Select[*tuple[Any, ...]]) -> int:
    """``SELECT count(*)`` over a select, as an int."""
    return int(conn.execute(sa.select(sa.func.count()).select_from(stmt.subquery())).scalar_one())
