"""Command-line commands that read or change a session go through the same access rules as the pages.

One table of (command × actor) outcomes; every subcommand of `python -m core` must be classified.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from core import cli, config, conversation
from core.accounts import register
from core.db import open_database
from core.projects import add_session, create_project
from core.sessions import create_session, set_status
from core.sharing import set_visibility
from tests.helpers import BRIEF, LONG, grant

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
    subcommands = set(cli.build_parser()._subparsers._group_actions[0].choices)
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
    return tmp, s.id


CASES = [(c, a) for c in SESSION_COMMANDS for a in ACTORS]


@pytest.mark.parametrize("command, actor", CASES, ids=[f"{c}-{a}" for c, a in CASES])
def test_command_access(world, command, actor, tmp_path, monkeypatch, capsys):
    tmp, session_id = world
    build, allowed = SESSION_COMMANDS[command]
    out = tmp_path / "out.csv"
    for name, value in (("HARMONICA_DB", str(tmp / "h.duckdb")), ("HARMONICA_SECRETS_DIR", str(tmp / "s")),
                        ("HARMONICA_OFFLINE", "1"), ("HARMONICA_AUTO_SYNTHESIS", "0")):
        monkeypatch.setenv(name, value)
    config.settings.cache_clear()
    try:   # in this process (a command's own process only adds its imports): an exception fails the test
        code = cli.main([*build(session_id, out), "--as", actor])
    finally:
        config.settings.cache_clear()
    if actor in allowed:
        assert code == 0, capsys.readouterr().err
    else:
        assert code != 0
        assert "do not have access" in capsys.readouterr().err
        assert not out.exists()
