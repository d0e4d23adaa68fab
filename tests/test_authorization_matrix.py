"""Who may open which page: one table of (page × actor) outcomes, checked by running each page.

Every page file must appear in PAGES, so a new page cannot be added without deciding who may see it.
"""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import pytest

from core import config, conversation
from core import db as dbmod
from core.accounts import register
from core.db import open_database
from core.projects import add_session, create_project
from core.sessions import create_session, set_status
from tests.helpers import BRIEF, grant
from tests.pages.apptest import app, texts

ROOT = Path(__file__).resolve().parent.parent
ACTORS = ["anonymous", "participant", "viewer", "editor", "owner", "outsider", "admin", "disabled"]
SECRET = "Secret Alpha"

# page -> (query builder, marker shown only when allowed, actors allowed)
PAGES = {
    "Home.py": (lambda w: {}, "Your sessions", {"viewer", "editor", "owner", "outsider", "admin"}),
    "pages/new.py": (lambda w: {}, "New session", {"viewer", "editor", "owner", "outsider", "admin"}),
    "pages/import.py": (lambda w: {}, "Import answers", {"viewer", "editor", "owner", "outsider", "admin"}),
    "pages/design.py": (lambda w: {"s": w["session"]}, SECRET, {"editor", "owner"}),
    "pages/results.py": (lambda w: {"s": w["session"]}, SECRET, {"viewer", "editor", "owner"}),
    "pages/projects.py": (lambda w: {"p": w["project"]}, "Project Alpha", {"viewer", "editor", "owner"}),
    "pages/project_results.py": (lambda w: {"p": w["project"]}, "Project Alpha", {"viewer", "editor", "owner"}),
    "pages/account.py": (lambda w: {}, "Your account", {"viewer", "editor", "owner", "outsider", "admin"}),
    "pages/users.py": (lambda w: {}, "Audit log", {"admin"}),
    "pages/admin.py": (lambda w: {}, "Admin settings", {"admin"}),
    # the participant page needs no account; everyone may take part through the link
    "pages/chat.py": (lambda w: {"s": w["session"]}, SECRET, set(ACTORS)),
    "pages/public.py": (lambda w: {"t": w["public_token"]}, SECRET, set(ACTORS)),
}
DENIED = ("Please sign in", "do not have access", "for site admin", "not valid")


def test_every_page_is_in_the_matrix():
    files = {"Home.py"} | {f"pages/{p.name}" for p in (ROOT / "pages").glob("*.py")}
    assert files == set(PAGES)


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("matrix")
    saved = {k: os.environ.get(k) for k in ("HARMONICA_DB", "HARMONICA_SECRETS_DIR")}
    os.environ["HARMONICA_DB"] = str(tmp / "h.duckdb")
    os.environ["HARMONICA_SECRETS_DIR"] = str(tmp / "secrets")
    config.settings.cache_clear()
    db = open_database(tmp / "h.duckdb")
    users = {name: register(db, name, f"{name}@example.org", name.title(), "password123", "password123")
             for name in ["admin", "owner", "viewer", "editor", "outsider", "disabled"]}
    session = create_session(db, users["owner"], replace(BRIEF, name=f"{SECRET} session"))
    set_status(db, users["owner"], session.id, "launched")
    project = create_project(db, users["owner"], "Project Alpha")
    add_session(db, users["owner"], project.id, session.id)
    for name, role in (("viewer", "viewer"), ("editor", "editor"), ("disabled", "owner")):
        grant(db, users["owner"], "project", project.id, users[name], role)
    outsider_project = create_project(db, users["outsider"], "Other project")
    assert outsider_project
    from core.sharing import create_public_link, set_visibility

    set_visibility(db, users["owner"], session.id, "public")
    token = create_public_link(db, users["owner"], session.id, ["summary"])
    with db.write() as cur:
        cur.execute("UPDATE users SET disabled = TRUE WHERE username = 'disabled'")
    participant = conversation.join(db, session.id)
    yield {"db": db, "users": users, "session": session.id, "project": project.id, "public_token": token,
           "participant_token": participant.token}
    dbmod.close_all()
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
    config.settings.cache_clear()


CASES = [(page, actor) for page in PAGES for actor in ACTORS]


@pytest.mark.parametrize("page, actor", CASES, ids=[f"{p.split('/')[-1]}-{a}" for p, a in CASES])
def test_page_access(world, page, actor):
    query_for, marker, allowed = PAGES[page]
    query = query_for(world)
    user = world["users"].get(actor) if actor not in ("anonymous", "participant") else None
    at = app(None if page == "Home.py" else page, user=user, query=query).run()
    assert not at.exception, at.exception
    shown = texts(at)
    if actor in allowed:
        assert marker in shown, f"{actor} should see {page}"
    else:
        assert marker not in shown, f"{actor} must not see {page}"
        assert any(d in shown for d in DENIED) or page == "Home.py"
