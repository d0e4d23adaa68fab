"""Command line: `python -m core --help`. HARMONICA_DB selects the database file."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from core import refresh
from core.config import settings
from core.db import DatabaseLocked
from core.db import configured_database as _db
from core.synthesis_cli import add_commands as add_synthesis_commands


def cmd_migrate(args: argparse.Namespace) -> int:
    db = _db()
    print(f"Database ready: {db.label}")
    return 0


def cmd_copy_db(args: argparse.Namespace) -> int:
    from core.copy_db import CopyError, copy_database
    from core.db import open_database

    source, target = open_database(args.source), open_database(args.target)
    try:
        report = copy_database(source, target, say=print)
    except CopyError as exc:
        print(f"Copy failed: {exc}", file=sys.stderr)
        return 1
    print(f"Copied {report.rows} rows in {report.tables} tables from {source.label} to {target.label} "
          f"in {report.seconds:.1f} s; every table's row count and checksum match.")
    return 0


def cmd_seed_demo(args: argparse.Namespace) -> int:
    from core.demo import seed_demo

    db = _db()
    result = seed_demo(db, participants=args.participants)
    print(f"Demo session with {result.participants} finished participants created in {db.label}")
    print(f"Sign in as   username: {result.username}   password: {result.password}")
    print(f"Session id: {result.session_id}")
    return 0


def cmd_reset_password(args: argparse.Namespace) -> int:
    from core.accounts import reset_password

    try:
        password = reset_password(_db(), args.username)
    except KeyError:
        print(f"No user named '{args.username}'.", file=sys.stderr)
        return 1
    print(f"New password for {args.username}: {password}")
    print("It is temporary: at the next sign-in it only lets the user choose a new password.")
    return 0


def cmd_backup(args: argparse.Namespace) -> int:
    from core import backup

    path = settings().db_path
    if not backup.applies_to(path):
        print(backup.ON_POSTGRESQL, file=sys.stderr)
        return 1
    if args.list:
        for snap in backup.list_snapshots(path):
            print(f"{snap.path.name}  {snap.taken_at:%Y-%m-%d %H:%M:%S} UTC  {snap.reason}  {snap.size / 1e6:.1f} MB")
        return 0
    try:
        db = _db()
    except DatabaseLocked:   # the app holds the file: its backup worker takes the snapshot
        asked = backup.request_snapshot(path)
        deadline = time.monotonic() + args.wait
        while time.monotonic() < deadline:
            made = [s for s in backup.list_snapshots(path) if s.taken_at.timestamp() >= int(asked)]
            if made:
                print(f"The running app wrote {made[0].path}")
                return 0
            time.sleep(0.5)
        print(f"The app holding {path} did not take the snapshot within {args.wait:g} s (is it running this "
              "version?). The request stays: it is taken when the app next looks.", file=sys.stderr)
        return 1
    snap = backup.take_snapshot(db, keep=args.keep)
    print(f"Wrote {snap.path} ({snap.size / 1e6:.1f} MB); keeping the newest {args.keep or backup.keep_count()}.")
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    from core import backup

    if not backup.applies_to(settings().db_path):
        print(backup.ON_POSTGRESQL, file=sys.stderr)
        return 1
    db = _db()   # the app must be stopped (or use its Backups page): one process holds the file
    try:
        result = backup.check(db, Path(args.snapshot)) if args.dry_run else backup.restore(db, Path(args.snapshot))
    except backup.BackupError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    for label, (now, then) in result.counts.items():
        print(f"{label:16} now {now:>8,}   in the snapshot {then:>8,}")
    if result.problem:
        print(result.problem, file=sys.stderr)
        return 1
    print("Dry run: nothing changed." if args.dry_run else
          f"Restored {result.snapshot.name}; the data before it is kept as a before-restore snapshot.")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m core", description="Harmonica command line.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    sub.add_parser("migrate", help="create or upgrade the database schema").set_defaults(func=cmd_migrate)
    copy = sub.add_parser("copy-db", help="copy every row from one database into an empty one (DuckDB file or "
                          "postgresql:// URL, either way), verified by row counts and checksums")
    copy.add_argument("source", help="the database to copy from (left unchanged)")
    copy.add_argument("target", help="an empty database to copy into (created and migrated if need be)")
    copy.set_defaults(func=cmd_copy_db)
    seed = sub.add_parser("seed-demo", help="create a demo account, session and finished participants")
    seed.add_argument("--participants", type=int, default=30, help="simulated participants (default 30)")
    seed.set_defaults(func=cmd_seed_demo)
    reset = sub.add_parser("reset-password", help="give a user a new random password (admin recovery)")
    reset.add_argument("username")
    reset.set_defaults(func=cmd_reset_password)
    back = sub.add_parser("backup", help="take a consistent snapshot of the database (also while the app runs)")
    back.add_argument("--keep", type=int, default=None, help="snapshots to keep (default HARMONICA_BACKUP_KEEP, 7)")
    back.add_argument("--list", action="store_true", help="list the snapshots instead")
    back.add_argument("--wait", type=float, default=60, help="seconds to wait for a running app (default 60)")
    back.set_defaults(func=cmd_backup)
    rest = sub.add_parser("restore", help="replace the database with a snapshot (app stopped; or its Backups page)")
    rest.add_argument("snapshot", help="a snapshot file, e.g. data/backups/harmonica-20261201T120000Z.duckdb")
    rest.add_argument("--dry-run", action="store_true", help="check it and show what it holds; change nothing")
    rest.set_defaults(func=cmd_restore)
    add_synthesis_commands(sub)  # import-responses, synthesize, export
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    refresh.switch_off()
    try:
        return args.func(args)
    except DatabaseLocked as exc:
        print(str(exc), file=sys.stderr)
        return 2
