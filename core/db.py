"""The DuckDB database: one connection per file and process, a cursor per operation, one writer at a time.

DuckDB 2.0 rejects one connection shared by threads ("connection is busy"), so every operation takes its
own cursor. Concurrent UPDATEs of the same row abort with "Conflict on update", so writes are serialised
by a lock: they are short, and one Streamlit process is the only writer of its file anyway.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

import duckdb

from core.migrations import apply_migrations


class DatabaseLocked(RuntimeError):
    """Another process holds the database file."""


class Database:
    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._conn = duckdb.connect(str(self.path))
        except duckdb.IOException as exc:  # the file lock of another process
            raise DatabaseLocked(
                f"The database {self.path} is in use by another process (is the app running?). "
                "Stop it, or point HARMONICA_DB at another file."
            ) from exc
        self._write_lock = threading.RLock()
        with self.write() as cur:
            apply_migrations(cur)

    @contextmanager
    def read(self) -> Iterator[duckdb.DuckDBPyConnection]:
        cur = self._conn.cursor()
        try:
            yield cur
        finally:
            cur.close()

    @contextmanager
    def write(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A cursor inside a transaction, committed on success and rolled back on error."""
        with self._write_lock:
            cur = self._conn.cursor()
            try:
                cur.execute("BEGIN TRANSACTION")
                yield cur
                cur.execute("COMMIT")
            except BaseException:
                try:
                    cur.execute("ROLLBACK")
                except duckdb.Error:
                    pass
                raise
            finally:
                cur.close()

    def fetchall(self, sql: str, params: list[Any] | tuple = ()) -> list[tuple]:
        with self.read() as cur:
            return cur.execute(sql, params).fetchall()

    def fetchone(self, sql: str, params: list[Any] | tuple = ()) -> tuple | None:
        with self.read() as cur:
            return cur.execute(sql, params).fetchone()

    def fetchdicts(self, sql: str, params: list[Any] | tuple = ()) -> list[dict]:
        with self.read() as cur:
            cur.execute(sql, params)
            names = [d[0] for d in cur.description]
            return [dict(zip(names, row)) for row in cur.fetchall()]

    def fetchdf(self, sql: str, params: list[Any] | tuple = ()):
        with self.read() as cur:
            return cur.execute(sql, params).df()

    def close(self) -> None:
        self._conn.close()


_open: dict[Path, Database] = {}
_open_lock = threading.Lock()


def open_database(path: str | Path) -> Database:
    """The process-wide Database for `path` (opened and migrated on first use)."""
    key = Path(path).expanduser().resolve()
    with _open_lock:
        db = _open.get(key)
        if db is None:
            db = _open[key] = Database(key)
        return db


def close_all() -> None:
    with _open_lock:
        for db in _open.values():
            db.close()
        _open.clear()
