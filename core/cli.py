"""Command line: `python -m core --help`. HARMONICA_DB selects the database file."""

from __future__ import annotations

import argparse
import sys

from core.config import settings
from core.db import DatabaseLocked, open_database


def _db():
    return open_database(settings().db_path)


def cmd_migrate(args: argparse.Namespace) -> int:
    db = _db()
    print(f"Database ready: {db.path}")
    return 0


def cmd_seed_demo(args: argparse.Namespace) -> int:
    from core.demo import seed_demo

    result = seed_demo(_db(), participants=args.participants)
    print(f"Demo session with {result.participants} finished participants created in {settings().db_path}")
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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m core", description="Harmonica command line.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    sub.add_parser("migrate", help="create or upgrade the database schema").set_defaults(func=cmd_migrate)
    seed = sub.add_parser("seed-demo", help="create a demo account, session and finished participants")
    seed.add_argument("--participants", type=int, default=30, help="simulated participants (default 30)")
    seed.set_defaults(func=cmd_seed_demo)
    reset = sub.add_parser("reset-password", help="give a user a new random password (admin recovery)")
    reset.add_argument("username")
    reset.set_defaults(func=cmd_reset_password)
    from core.synthesis_cli import add_commands as add_synthesis_commands

    add_synthesis_commands(sub)  # import-responses, synthesize, export
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except DatabaseLocked as exc:
        print(str(exc), file=sys.stderr)
        return 2
