"""Snapshots of the database, taken from inside the process that holds it, and restoring one.

DuckDB lets one process open the file, so a copy of the file made beside a running app may catch it mid-write.
A snapshot is made by the process itself instead: `COPY FROM DATABASE` into a new file, under the write lock and
inside one read transaction, so it is consistent (every session, transcript, codebook edit and account as of one
moment). Snapshots are kept in a folder (`HARMONICA_BACKUP_DIR`, default `backups/` beside the database), the
newest `HARMONICA_BACKUP_KEEP` of them. A worker thread in the app's process takes one every
`HARMONICA_BACKUP_EVERY_H` hours, and at once when asked: by the Backups page, or by `python -m core backup`,
which (the app holding the file) leaves a request in the folder and waits for the snapshot.

A restore first checks the snapshot (`check`: it opens, its schema is one this version can migrate, what it
holds against what is there now), then keeps the current data as a snapshot of its own ("before-restore"), then
puts the snapshot in place of the file and reopens it (older schemas are migrated). Requests running at that
moment may fail once; nothing is merged: the database becomes the snapshot.
"""

from __future__ import annotations

import logging
import os
import re
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import duckdb

from core.config import is_postgres_url, live
from core.db import Database, owner_only, sql_identifier, sql_literal
from core.permissions import require_admin
from core.repos.audit import insert_audit
from core.repos.users import User

SUFFIX = ".duckdb"
_NAME = re.compile(r"^harmonica-(\d{8}T\d{6}Z)(?:-([a-z-]+?))?(?:-\d+)?\.duckdb$")
# what a researcher recognises in a check: rows of these tables, now and in the snapshot
COUNTED = {"sessions": "sessions", "participants": "participants", "messages": "messages",
           "users": "accounts", "codebook_edits": "codebook edits", "projects": "projects"}


class BackupError(RuntimeError):
    """A snapshot that cannot be taken or restored, said plainly."""


@dataclass(frozen=True)
class Snapshot:
    path: Path
    taken_at: datetime
    reason: str          # "manual", "automatic", "before-restore"
    size: int


@dataclass(frozen=True)
class Check:
    """What a restore of `snapshot` would do: counts now and in the snapshot, and whether it can be done."""
    snapshot: Path
    schema_version: int
    current_version: int
    counts: dict[str, tuple[int, int]]     # label -> (now, in the snapshot)
    problem: str | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None


ON_POSTGRESQL = ("This database is PostgreSQL: back it up with the server's own tools (pg_dump, or your provider's "
                 "snapshots). Snapshots here are copies of the embedded DuckDB file.")


def applies_to(target: object) -> bool:
    """Whether snapshots apply: to a DuckDB file (an open Database or its path), not to a PostgreSQL server."""
    return getattr(target, "backend", "duckdb") == "duckdb" and not is_postgres_url(target)


def folder(db: Database | Path) -> Path:
    """The backup folder of a database (or of a database file no one has opened here)."""
    path = db.path if isinstance(db, Database) else Path(db)
    return live("HARMONICA_BACKUP_DIR") or path.parent / "backups"


def keep_count() -> int:
    return live("HARMONICA_BACKUP_KEEP")


def list_snapshots(db: Database | Path) -> list[Snapshot]:
    """The snapshots in the backup folder, newest first."""
    where = folder(db)
    found = []
    for path in where.glob(f"harmonica-*{SUFFIX}") if where.is_dir() else []:
        m = _NAME.match(path.name)
        if m:
            taken = datetime.strptime(m.group(1), "%Y%m%dT%H%M%SZ").replace(tzinfo=timezone.utc)
            found.append(Snapshot(path, taken, m.group(2) or "manual", path.stat().st_size))
    return sorted(found, key=lambda s: (s.taken_at, s.path.stat().st_mtime_ns), reverse=True)


def take_snapshot(db: Database, reason: str = "manual", keep: int | None = None) -> Snapshot:
    """A consistent copy of the whole database in the backup folder; then only the newest `keep` are kept."""
    where = folder(db)
    where.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(timezone.utc)
    base = f"harmonica-{stamp:%Y%m%dT%H%M%SZ}" + ("" if reason == "manual" else f"-{reason}")
    path, n = where / f"{base}{SUFFIX}", 2
    while path.exists():    # two in one second
        path, n = where / f"{base}-{n}{SUFFIX}", n + 1
    partial = path.with_name(path.name + ".partial")
    db.copy_to(partial)
    os.replace(partial, path)      # a snapshot is either complete or absent
    owner_only(path)
    prune(db, keep if keep is not None else keep_count())
    return next(s for s in list_snapshots(db) if s.path == path)


def prune(db: Database, keep: int) -> list[Path]:
    """Delete all but the newest `keep` snapshots ("before-restore" ones count like the others)."""
    gone = []
    for old in list_snapshots(db)[keep:]:
        old.path.unlink(missing_ok=True)
        gone.append(old.path)
    return gone


def _version(cur: duckdb.DuckDBPyConnection, catalog: str) -> int:
    return cur.execute(f"SELECT coalesce(max(version), 0) FROM {sql_identifier(catalog)}.schema_migrations"
                       ).fetchone()[0]


def check(db: Database, snapshot: Path) -> Check:
    """A dry run of restoring `snapshot`: nothing changes."""
    snapshot = Path(snapshot)
    if not snapshot.is_file():
        raise BackupError(f"There is no snapshot at {snapshot}.")
    with db.read() as cur:
        source = cur.execute("SELECT current_database()").fetchone()[0]
        current = _version(cur, source)
        try:
            cur.execute(f"ATTACH {sql_literal(str(snapshot))} AS harmonica_check (READ_ONLY)")
        except duckdb.Error as exc:
            raise BackupError(f"{snapshot.name} is not a database this app can read ({exc}).") from None
        try:
            try:
                version = _version(cur, "harmonica_check")
            except duckdb.Error:
                return Check(snapshot, 0, current, {}, f"{snapshot.name} is not a Harmonica database.")
            tables = {r[0] for r in cur.execute(
                "SELECT table_name FROM duckdb_tables() WHERE database_name = 'harmonica_check'").fetchall()}
            counts = {}
            for table, label in COUNTED.items():
                now = cur.execute(f"SELECT count(*) FROM {sql_identifier(source)}.{table}").fetchone()[0]
                then = cur.execute(f"SELECT count(*) FROM harmonica_check.{table}").fetchone()[0] \
                    if table in tables else 0
                counts[label] = (now, then)
        finally:
            cur.execute("DETACH harmonica_check")
    problem = None
    if version > current:
        problem = (f"{snapshot.name} was made by a newer version of Harmonica (schema {version}, this one has "
                   f"{current}): update the app first.")
    return Check(snapshot, version, current, counts, problem)


_restore_lock = threading.Lock()


def restore(db: Database, snapshot: Path) -> Check:
    """Replace the database with `snapshot`, after keeping the current data as a "before-restore" snapshot."""
    result = check(db, snapshot)
    if not result.ok:
        raise BackupError(result.problem)
    with _restore_lock:
        take_snapshot(db, reason="before-restore", keep=keep_count() + 1)
        db.replace_file(Path(snapshot))
    return result


def every_hours() -> float:
    """Hours between automatic snapshots; 0: none."""
    return live("HARMONICA_BACKUP_EVERY_H")


def maybe_automatic(db: Database) -> Snapshot | None:
    """Take the periodic snapshot when the newest is older than HARMONICA_BACKUP_EVERY_H hours (0: never)."""
    hours = every_hours()
    if hours <= 0:
        return None
    newest = list_snapshots(db)[:1]
    if newest and (time.time() - newest[0].taken_at.timestamp()) < hours * 3600:
        return None
    return take_snapshot(db, reason="automatic")


# --- on request, from inside the app's process --------------------------------------------------------------

REQUEST = "snapshot.requested"
POLL_S = 2.0
_workers: set[Path] = set()
_workers_lock = threading.Lock()


def request_snapshot(db_path: Path) -> float:
    """Ask the process that holds `db_path` for a snapshot (its worker looks every POLL_S); returns when."""
    where = folder(db_path)
    where.mkdir(parents=True, exist_ok=True)
    (where / REQUEST).write_text(str(time.time()))
    return time.time()


def serve_once(db: Database) -> Snapshot | None:
    """One look by the worker: a requested snapshot, else the periodic one when due."""
    request = folder(db) / REQUEST
    if request.exists():
        request.unlink(missing_ok=True)
        return take_snapshot(db)
    return maybe_automatic(db)


def start_worker(db: Database) -> None:
    """The process's backup worker for `db` (a daemon thread, started once; none for PostgreSQL)."""
    if not applies_to(db):
        return
    with _workers_lock:
        if db.path in _workers:
            return
        _workers.add(db.path)

    def run() -> None:
        while not db.closed:
            try:
                serve_once(db)
            except Exception:   # a full disk or an unwritable folder: said in the log, tried again later
                logging.getLogger("harmonica.backup").exception("snapshot failed")
            time.sleep(POLL_S)
        with _workers_lock:
            _workers.discard(db.path)

    threading.Thread(target=run, name="harmonica-backup", daemon=True).start()


# --- the Backups page: admins only, every action in the audit log -----------------------------------------

def snapshot_as(db: Database, user: User | None) -> Snapshot:
    require_admin(user)
    snap = take_snapshot(db)
    insert_audit(db, user.id, "backup.snapshot", "database", snap.path.name, {"size": snap.size})
    return snap


def check_as(db: Database, user: User | None, name: str) -> Check:
    require_admin(user)
    return check(db, _named(db, name))


def restore_as(db: Database, user: User | None, name: str) -> Check:
    require_admin(user)
    done = restore(db, _named(db, name))
    insert_audit(db, user.id, "backup.restore", "database", name, {"counts": done.counts})
    return done


def _named(db: Database, name: str) -> Path:
    """A snapshot of the backup folder by its file name (never a path from outside it)."""
    for snap in list_snapshots(db):
        if snap.path.name == name:
            return snap.path
    raise BackupError(f"There is no snapshot named {name!r} in {folder(db)}.")
