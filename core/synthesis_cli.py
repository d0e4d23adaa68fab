"""Command-line subcommands for import, synthesis and export (registered by core/cli.py).

The command line runs as the local operator: whoever can run it holds the database file (HARMONICA_DB), so it
acts as a user of the app and goes through the same access checks (core.sessions.get_for):
- `--as USERNAME` acts as that user (`synthesize` changes what every member sees: editors and owners only);
- otherwise a session command acts as the session's owner, and an import as `--owner USERNAME`, else the first
  admin account, else a new local account named "operator" (its password can be set with reset-password).
"""

from __future__ import annotations

import argparse
import secrets
import sys
from pathlib import Path

from core.db import Database
from core.db import configured_database as _db
from core.repos import sessions as srepo
from core.repos import users as urepo
from core.repos.users import User


def _user(db: Database, username: str | None) -> User:
    user = urepo.get_by_username(db, username) if username else None
    if username and user is None:
        raise SystemExit(f"No user named '{username}'.")
    return user


def _operator_for_session(db: Database, session_id: str, username: str | None) -> User:
    if username:
        return _user(db, username)
    session = srepo.get_session(db, session_id)
    owner = urepo.get_by_id(db, session.owner_id) if session else None
    if owner is None:
        raise SystemExit(f"No session with id '{session_id}'.")
    return owner


def _import_owner(db: Database, username: str | None) -> User:
    if username:
        return _user(db, username)
    users = urepo.list_users(db)
    admins = [u for u in users if u.is_admin and not u.disabled]
    if admins:
        return admins[0]
    if users:
        return users[0]
    from core.accounts import register

    password = secrets.token_urlsafe(18)
    print("No account yet: created the local account 'operator' (set its password with "
          "`python -m core reset-password operator`).", file=sys.stderr)
    return register(db, "operator", "operator@localhost.invalid", "Local operator", password, password)


def cmd_import_responses(args: argparse.Namespace) -> int:
    from core.importer import ImportProblem, ImportSpec, import_responses

    db = _db()
    owner = _import_owner(db, args.owner)
    spec = ImportSpec(args.title, args.text_column, args.participant_column, args.attribute_column or [])
    path = Path(args.file)
    if not path.is_file():
        print(f"No such file: {path}", file=sys.stderr)
        return 1
    try:
        result = import_responses(db, owner, path, spec, filename=path.name)
    except ImportProblem as exc:
        for message in exc.messages:
            print(message, file=sys.stderr)
        return 1
    for warning in result.warnings:
        print(f"Warning: {warning}", file=sys.stderr)
    print(f"Imported {result.participants} participant(s) and {result.answers} answer(s) "
          f"({result.empty_cells} empty cell(s) skipped) into a new closed session owned by {owner.username}.")
    print(result.session_id)
    return 0


def cmd_synthesize(args: argparse.Namespace) -> int:
    from core import results
    from core.permissions import AccessDenied

    db = _db()
    user = _operator_for_session(db, args.session_id, args.as_user)

    def progress(fraction: float, message: str) -> None:
        if args.verbose:
            print(f"{fraction * 100:5.1f}%  {message}", file=sys.stderr)

    try:
        outcome = results.open(db, user, args.session_id).run_synthesis(mode=args.mode, progress=progress,
                                                                          trigger="cli")
    except AccessDenied as exc:   # viewers read results; re-running them (what every member sees) needs an editor
        print(f"{exc} Running the synthesis needs the editor or owner role.", file=sys.stderr)
        return 1
    s = outcome.stats
    from core.repos.synthesis import get_run

    used = get_run(db, outcome.run_id).mode
    if used != args.mode:
        print("No model is configured (OPENAI_BASE_URL / OPENAI_API_KEY): ran offline.", file=sys.stderr)
    print(f"Synthesis run {outcome.run_id} ({outcome.kind}, {used}): {s.get('themes', 0)} themes from "
          f"{s.get('statements', 0)} statements of {s.get('participants', 0)} participants; "
          f"{outcome.embedded} embedded; {s.get('quotes_dropped', 0)} quote(s) dropped.")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from core.export import export_session
    from core.permissions import AccessDenied

    db = _db()
    user = _operator_for_session(db, args.session_id, args.as_user)
    try:
        data = export_session(db, user, args.session_id, args.format, raw_cells=args.raw_cells)
    except (AccessDenied, ValueError) as exc:
        print(str(exc), file=sys.stderr)
        return 1
    if args.out == "-":
        sys.stdout.buffer.write(data)
    else:
        Path(args.out).write_bytes(data)
        print(f"Wrote {len(data):,} bytes to {args.out}")
    return 0


def add_commands(sub) -> None:
    from core.formats import FORMATS

    imp = sub.add_parser("import-responses", help="import a CSV of open-ended answers into a new session "
                                                  "(prints the session id on its last line)")
    imp.add_argument("file", metavar="FILE.csv")
    imp.add_argument("--title", required=True)
    imp.add_argument("--text-column", action="append", required=True, help="a text column (repeatable)")
    imp.add_argument("--participant-column", help="column identifying the respondent (rows with the same id are "
                                                  "one participant)")
    imp.add_argument("--attribute-column", action="append", help="a column to segment by (repeatable)")
    imp.add_argument("--owner", help="username owning the new session (default: first admin account)")
    imp.set_defaults(func=cmd_import_responses)

    syn = sub.add_parser("synthesize", help="run the synthesis of a session and store the run (editors and owners)")
    syn.add_argument("session_id", metavar="SESSION_ID")
    syn.add_argument("--mode", choices=["offline", "model"], default="offline")
    syn.add_argument("--as", dest="as_user", metavar="USERNAME", help="act as this user (default: the owner)")
    syn.add_argument("-v", "--verbose", action="store_true", help="print progress on stderr")
    syn.set_defaults(func=cmd_synthesize)

    exp = sub.add_parser("export", help="export a session's data, themes or report")
    exp.add_argument("session_id", metavar="SESSION_ID")
    exp.add_argument("--format", required=True, choices=list(FORMATS))
    exp.add_argument("--out", required=True, help="output file, or - for standard output")
    exp.add_argument("--as", dest="as_user", metavar="USERNAME", help="act as this user (default: the owner)")
    exp.add_argument("--raw-cells", action="store_true",
                     help="CSV cells exactly as typed, even those a spreadsheet app would run as formulas "
                          "(=, +, -, @ first); by default such cells start with a single quote")
    exp.set_defaults(func=cmd_export)
