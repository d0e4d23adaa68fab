"""The DuckDB database: one connection per file and process, a cursor per operation, one writer at a time.

DuckDB 2.0 rejects one connection shared by threads ("connection is busy"), so every operation takes its
own cursor. Concurrent UPDATEs of the same row abort with "Conflict on update", so writes are serialised
by a lock: they are short, and one Streamlit process is the only writer of its file anyway.

The database file and its write-ahead log are readable by their owner only (0600), like the cookie key.
"""

from __future__ import annotations

import os
import shutil
import threading
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from typing import Any, Iterator

import duckdb

from core.config import is_postgres_url
from core.dialects import DUCKDB
from core.migrations import apply_migrations


class DatabaseLocked(RuntimeError):
    """Another process holds the database file."""


PRIVATE_MODE = 0o600


def owner_only(path: Path) -> None:
    """Make an existing file readable and writable by its owner only."""
    try:
        if os.stat(path).st_mode & 0o777 != PRIVATE_MODE:
            os.chmod(path, PRIVATE_MODE)
    except FileNotFoundError:
        pass


class Queries:
    """The read helpers both backends share, over their `read()` cursor."""

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


class Database(Queries):
    backend = "duckdb"
    dialect = DUCKDB

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
        # DuckDB creates its files with the process umask (usually world-readable): restrict the file now,
        # while it holds nothing yet (or, made by an older version, before anything else reads it).
        self._wal = None if str(path) == ":memory:" else Path(f"{self.path}.wal")
        if self._wal is not None:
            owner_only(self.path)
            owner_only(self._wal)
        self._write_lock = threading.RLock()
        self.closed = False
        with self.write() as cur:
            apply_migrations(cur)

    @property
    def label(self) -> str:
        """How to name this database to people."""
        return str(self.path)

    def _private_wal(self) -> None:
        """Create the write-ahead log empty and owner-only before DuckDB does (with the umask) on a write.

        DuckDB deletes the log at each checkpoint and recreates it on the next write, reusing a file that
        exists; it ignores an empty one when opening. Called under the write lock, before every write.
        """
        if self._wal is None:
            return
        try:
            os.close(os.open(self._wal, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_MODE))
        except FileExistsError:
            pass

    @contextmanager
    def read(self) -> Iterator[duckdb.DuckDBPyConnection]:
        cur = self._conn.cursor()
        try:
            yield cur
        finally:
            cur.close()

    @contextmanager
    def write(self, serial: str | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
        """A cursor inside a transaction, committed on success and rolled back on error. `serial` names writes that
        must run one at a time (on PostgreSQL across replicas); here every write already does, under one lock."""
        with self._write_lock:
            self._private_wal()
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

    def exclusive(self, name: str) -> AbstractContextManager:
        """Held by one process at a time: a no-op here, since one process owns the file (PostgreSQL: a lock)."""
        return nullcontext()

    def close(self) -> None:
        self.closed = True
        self._conn.close()

    def copy_to(self, target: Path) -> None:
        """A consistent copy of the whole database into the new file `target` (core.backup): taken under the write
        lock, in one statement, so it holds every table as of one moment."""
        with self._write_lock:
            cur = self._conn.cursor()
            try:
                source = cur.execute("SELECT current_database()").fetchone()[0]
                cur.execute(f"ATTACH {sql_literal(str(target))} AS harmonica_copy")
                try:
                    cur.execute(f"COPY FROM DATABASE {sql_identifier(source)} TO harmonica_copy")
                finally:
                    cur.execute("DETACH harmonica_copy")
            finally:
                cur.close()

    def replace_file(self, source: Path) -> None:
        """Put a copy of the database file `source` in place of this one and reopen it, migrated (core.backup).
        Operations running at that moment fail; later ones see the new data."""
        with self._write_lock:
            self._conn.close()      # checkpoints: the write-ahead log is folded into the file and removed
            try:
                if self._wal is not None:
                    self._wal.unlink(missing_ok=True)
                shutil.copyfile(source, self.path)
            finally:
                self._conn = duckdb.connect(str(self.path))
            owner_only(self.path)
            with self.write() as cur:
                apply_migrations(cur)


def sql_literal(text: str) -> str:
    """A string literal for the few statements that take no parameters (ATTACH)."""
    return "'" + text.replace("'", "''") + "'"


def sql_identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


_open: dict[Path, Database] = {}
_open_lock = threading.Lock()


def open_database(target: str | Path) -> Database:
    """The process-wide Database for `target`, a DuckDB file or a PostgreSQL URL (opened and migrated on first use)."""
    postgres = is_postgres_url(target)
    key = target if postgres else Path(target).expanduser().resolve()
    with _open_lock:
        db = _open.get(key)
        if db is None:
            if postgres:
                from core.postgres import PostgresDatabase  # psycopg is imported only when it is used

                db = _open[key] = PostgresDatabase(target)
            else:
                db = _open[key] = Database(key)
        return db


def configured_database() -> Database:
    """The process-wide Database of the configured file (HARMONICA_DB)."""
    from core.config import settings

    return open_database(settings().db_path)


def close_all() -> None:
    with _open_lock:
        for db in _open.values():
            db.close()
        _open.clear()


IN_CHUNK = 5000


def fetch_in(db: "Database", sql: str, values: list, params: list | tuple = ()) -> list[tuple]:
    """The rows of `sql` for every value, `{values}` in it standing for the placeholders of one chunk of values:
    long IN lists are sent IN_CHUNK at a time. `params` come before the values."""
    rows: list[tuple] = []
    for i in range(0, len(values), IN_CHUNK):
        chunk = list(values[i:i + IN_CHUNK])
        rows += db.fetchall(sql.format(values=", ".join("?" * len(chunk))), [*params, *chunk])
    return rows
