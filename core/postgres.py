"""The PostgreSQL backend (HARMONICA_DB=postgresql://…): the same interface as core.db.Database, so that several
app replicas, the CLI and the API can share one database.

The repositories and migrations write one SQL that both engines accept (checked by the tests on both backends).
Where the dialects differ, this module adapts it (and core/dialects.py holds the few SQL pieces that must differ):
- placeholders: `?` (DuckDB) becomes `%s` (psycopg) outside string literals, and a literal `%` is doubled;
- bulk loads: `cur.register(name, frame)` (DuckDB reads a DataFrame as a table) becomes a temporary table filled
  by COPY, dropped by `cur.unregister(name)`;
- `cur.execute(...).df()` (DuckDB's DataFrame of a result) is built from the rows;
- timestamps: every connection works in UTC, as the DuckDB file does (naive UTC datetimes in, naive out).
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from contextlib import contextmanager
from typing import Any, Iterator

import pandas as pd
import psycopg
from psycopg_pool import ConnectionPool

from core.db import Queries
from core.dialects import POSTGRES
from core.migrations import apply_migrations

POOL_SIZE = 10   # connections per process: each running script holds one for a query's length


_TOKENS = re.compile(r"'(?:[^']|'')*'|\?|%")


@functools.lru_cache(maxsize=4096)
def to_psycopg(sql: str) -> str:
    """DuckDB-style SQL with `?` placeholders as psycopg's `%s`; string literals are left alone."""
    return _TOKENS.sub(lambda m: "%s" if m.group() == "?" else "%%" if m.group() == "%" else m.group(), sql)


def _column_type(values: pd.Series) -> str:
    """The PostgreSQL type of a DataFrame column registered as a table."""
    kind = values.dtype.kind
    if kind == "b":
        return "BOOLEAN"
    if kind in "iu":
        return "BIGINT"
    if kind == "f":
        return "DOUBLE PRECISION"
    if kind == "M":
        return "TIMESTAMP"
    sample = next((v for v in values if _plain(v) is not None), None)
    if isinstance(sample, (bytes, bytearray, memoryview)):
        return "BYTEA"
    if isinstance(sample, bool):
        return "BOOLEAN"
    if isinstance(sample, int):
        return "BIGINT"
    if isinstance(sample, float):
        return "DOUBLE PRECISION"
    if isinstance(sample, dt.datetime):
        return "TIMESTAMP"
    return "TEXT"


def _plain(value: Any) -> Any:
    """A DataFrame cell as a value psycopg adapts (numpy scalars, pandas timestamps and NaN/NaT/NA as Python's)."""
    if value is None or value is pd.NaT or value is pd.NA:
        return None
    if isinstance(value, float) and value != value:
        return None
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if hasattr(value, "item") and not isinstance(value, (bytes, str)):
        return value.item()
    return value


class Cursor:
    """A psycopg cursor that takes the SQL the repositories write for DuckDB."""

    def __init__(self, cur: psycopg.Cursor):
        self._cur = cur

    def execute(self, sql: str, params: list | tuple = ()) -> "Cursor":
        if params:
            self._cur.execute(to_psycopg(sql), list(params))
        else:   # no placeholders to translate; may hold several statements (migrations)
            self._cur.execute(sql)
        return self

    def fetchall(self) -> list[tuple]:
        return self._cur.fetchall()

    def fetchone(self) -> tuple | None:
        return self._cur.fetchone()

    @property
    def description(self):
        return self._cur.description

    def df(self) -> pd.DataFrame:
        names = [d.name for d in self._cur.description or []]
        return pd.DataFrame.from_records(self._cur.fetchall(), columns=names)

    def register(self, name: str, frame: pd.DataFrame) -> None:
        """`frame` as the temporary table `name` (COPY), for the INSERT … SELECT of a bulk load."""
        columns = [str(c) for c in frame.columns]
        typed = ", ".join(f"{_quote(c)} {_column_type(frame[c])}" for c in columns)
        self._cur.execute(f"DROP TABLE IF EXISTS pg_temp.{_quote(name)}")
        self._cur.execute(f"CREATE TEMP TABLE {_quote(name)} ({typed})")
        with self._cur.copy(f"COPY {_quote(name)} ({', '.join(map(_quote, columns))}) FROM STDIN") as copy:
            for row in frame.itertuples(index=False, name=None):
                copy.write_row([_plain(v) for v in row])

    def unregister(self, name: str) -> None:
        self._cur.execute(f"DROP TABLE IF EXISTS pg_temp.{_quote(name)}")

    def close(self) -> None:
        self._cur.close()


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _configure(conn: psycopg.Connection) -> None:
    conn.execute("SET TIME ZONE 'UTC'")
    conn.commit()


class PostgresDatabase(Queries):
    """A pool of connections to one PostgreSQL database; reads in autocommit, each write one transaction."""

    backend = "postgresql"
    dialect = POSTGRES

    def __init__(self, url: str, pool_size: int = POOL_SIZE):
        self.url = url
        self.path = url   # the identity of the database, as a file's path is for DuckDB (caches, workers)
        self._pool = ConnectionPool(url, min_size=1, max_size=pool_size, configure=_configure,
                                    kwargs={"autocommit": True}, open=True)
        self.closed = False
        with self.write(serial="migrations") as cur:   # replicas starting together migrate once
            apply_migrations(cur)

    @property
    def label(self) -> str:
        """The URL without its password, to name this database to people."""
        return re.sub(r"(://[^:/@]*):[^@]*@", r"\1:***@", self.url)

    @contextmanager
    def read(self) -> Iterator[Cursor]:
        with self._pool.connection() as conn, conn.cursor() as cur:
            yield Cursor(cur)

    @contextmanager
    def write(self, serial: str | None = None) -> Iterator[Cursor]:
        """A cursor inside a transaction, committed on success and rolled back on error. Writes naming the same
        `serial` run one at a time across every replica (a transaction-level advisory lock): a write that reads
        before it writes (the next sequence number, a check) sees what the previous one committed."""
        with self._pool.connection() as conn, conn.transaction(), conn.cursor() as cur:
            if serial is not None:
                cur.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", [serial])
            yield Cursor(cur)

    @contextmanager
    def exclusive(self, name: str) -> Iterator[None]:
        """Held by one process at a time across every replica (a session-level advisory lock on one connection)."""
        with self._pool.connection() as conn:
            conn.execute("SELECT pg_advisory_lock(hashtextextended(%s, 0))", [name])
            try:
                yield
            finally:
                conn.execute("SELECT pg_advisory_unlock(hashtextextended(%s, 0))", [name])

    def close(self) -> None:
        self.closed = True
        self._pool.close()
