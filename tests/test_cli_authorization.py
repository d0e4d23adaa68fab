"""Command-line commands that read or change a session go through the same access rules as the pages.

One table of (command × actor) outcomes; every subcommand of `python -m core` must be classified.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from core import conversation
from core import db as dbmod
from core.accounts import register
from core.cli import build_parser
from core.db import open_database
from core.projects import add_session, create_project
from core.sessions import create_session, set_status
from core.sharing import set_visibility
from tests.helpers import BRIEF, LONG, grant

ROOT = Path(__file__).resolve().parent.parent
ACTORS = ["owner", "editor", "viewer", "outsider", "admin", "disabled"]
# command -> (arguments, actors allowed); a session's data is reached only through these
SESSION_COMMANDS = {
    # a run is what every member sees: viewers read results, they do not re-run them (issue 15)
    "synthesize": (lambda sid, out: ["synthesize", sid], {"owner", "editor"}),
    "export": (lambda sid, out: ["export", sid, "--format", "assignments-csv", "--out", str(out)], {"owner", "editor"}),
}
# commands that touch no existing session's content: the local operator's tools (documented in the README); backup
# and restore copy the whole file, which whoever can run them on this machine can read anyway
OPERATOR_COMMANDS = {"migrate", "seed-demo", "reset-password", "import-responses", "backup", "restore", "copy-db"}


def test_every_command_is_classified():
    subcommands = set(build_parser()._subparsers._group_actions[0].choices)
    assert subcommands == set(SESSION_COMMANDS) | OPERATOR_COMMANDS


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("cli_matrix")
    db = open_database(tmp / "h.duckdb")
    users = {n: register(db, n, f"{n}@example.org", n.title(), "password123", "password123")
             for n in ["admin", "owner", "editor", "viewer", "outsider", "disabled"]}
    s = create_session(db, users["owner"], replace(BRIEF, name="CLI secret session"))
    set_status(db, users["owner"], s.id, "launched")
    project = create_project(db, users["owner"], "CLI project")
    add_session(db, users["owner"], project.id, s.id)
    for name, role in (("editor", "editor"), ("viewer", "viewer"), ("disabled", "owner")):
        grant(db, users["owner"], "project", project.id, users[name], role)
    set_visibility(db, users["owner"], s.id, "members")
    for i in range(3):
        conversation.send(db, conversation.join(db, s.id).token, f"{LONG} ({i})")
    with db.write() as cur:
        cur.execute("UPDATE users SET disabled = TRUE WHERE username = 'disabled'")
    dbmod.close_all()  # DuckDB: the command's process must be the only one holding the file
    return tmp, s.id


CASES = [(c, a) for c in SESSION_COMMANDS for a in ACTORS]


@pytest.mark.parametrize("command, actor", CASES, ids=[f"{c}-{a}" for c, a in CASES])
def test_command_access(world, command, actor, tmp_path):
    tmp, session_id = world
    build, allowed = SESSION_COMMANDS[command]
    out = tmp_path / "out.csv"
    env = {**os.environ, "HARMONICA_DB": str(tmp / "h.duckdb"), "HARMONICA_SECRETS_DIR": str(tmp / "s"),
           "HARMONICA_OFFLINE": "1", "HARMONICA_AUTO_SYNTHESIS": "0"}
    done = subprocess.run([sys.executable, "-m", "core", *build(session_id, out), "--as", actor], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    if actor in allowed:
        assert done.returncode == 0, done.stderr
    else:
        assert done.returncode != 0
        assert "do not have access" in done.stderr and "Traceback" not in done.stderr
        assert not out.exists()
