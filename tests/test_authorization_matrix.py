"""Who may open which page: one table of (page × actor) outcomes, checked by running each page; and who may change
shared results: one table of (write × actor) outcomes, checked in core (viewers read, they never write).

Every page file must appear in PAGES, so a new page cannot be added without deciding who may see it.
"""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import pytest

from core import config, conversation, results
from core import db as dbmod
from core.accounts import register
from core.db import open_database
from core.permissions import AccessDenied
from core.projects import add_session, create_project
from core.repos import participants as prepo
from core.repos import sessions as srepo
from core.repos import synthesis as synrepo
from core.repos import users as urepo
from core.sessions import create_session, set_status
from core.sharing import set_audience_quotes, set_visibility
from core.synthesis.pipeline import synthesize
from tests.helpers import BRIEF, LONG, grant
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
    "pages/backups.py": (lambda w: {}, "Snapshots of the whole database", {"admin"}),
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


# ------------------------------------------------------------------------------------ writes to shared results
# What every member of a session sees (its synthesis runs, pinned insights, codebook, who is included, the project
# synthesis, what participants and public links may quote) is changed only by those allowed, checked in core
# whatever the page shows: each write is attempted as each actor through core, and a refused one changes nothing.
WRITE_ACTORS = ["anonymous", "viewer", "editor", "owner", "outsider", "admin", "disabled"]


def _ask(w):
    """An answer with citations and the run it comes from, asked by the owner."""
    owner = w["users"]["owner"]
    opened = results.open(w["db"], owner, w["session"])
    view = opened.synthesis_view()
    return opened.ask(view, "billing", mode="offline"), view.run.id


def _pins(w) -> set[str]:
    return {p["id"] for p in synrepo.list_pins(w["db"], w["session"])}


def _owners_pin(w) -> str:
    return results.open(w["db"], w["users"]["owner"], w["session"]).pin_insight(*_ask(w))


def _first_theme(w) -> str:
    return results.open(w["db"], w["users"]["owner"], w["session"]).synthesis_view().themes[0].theme_id


def _included(w) -> bool:
    return prepo.get_participant(w["db"], w["participant"]).included


def _project_runs(w) -> int:
    return len(synrepo.list_runs(w["db"], results.project_scope(w["project"], [w["session"]])))


# write -> (prepare(world) -> argument, act(world, user, argument), observe(world, argument), actors allowed)
WRITES = {
    "run synthesis": (lambda w: None,
                      lambda w, u, a: results.open(w["db"], u, w["session"]).run_synthesis(),
                      lambda w, a: len(synrepo.list_runs(w["db"], w["session"])),
                      {"editor", "owner"}),
    "pin an insight": (lambda w: None,
                       lambda w, u, a: results.open(w["db"], u, w["session"]).pin_insight(*_ask(w)),
                       lambda w, a: len(_pins(w)),
                       {"editor", "owner"}),
    "unpin the owner's pin": (_owners_pin,
                              lambda w, u, a: results.open(w["db"], u, w["session"]).unpin_insight(a),
                              lambda w, a: a in _pins(w),
                              {"editor", "owner"}),
    "rename a theme": (_first_theme,
                       lambda w, u, a: results.open(w["db"], u, w["session"]).edit_codebook("rename", theme_id=a,
                                                             label=f"Renamed by {u.username if u else 'nobody'}"),
                       lambda w, a: len(synrepo.list_edits(w["db"], w["session"])),
                       {"editor", "owner"}),
    "exclude a participant": (_included,
                              lambda w, u, a: results.open(w["db"], u, w["session"]).set_included(w["participant"],
                                                                                                    not a),
                              lambda w, a: _included(w),
                              {"editor", "owner"}),
    "run the project synthesis": (lambda w: None,
                                  lambda w, u, a: results.run_project_synthesis(w["db"], u, w["project"]),
                                  lambda w, a: _project_runs(w),
                                  {"editor", "owner"}),
    "allow quotes for participants": (lambda w: None,
                                      lambda w, u, a: set_audience_quotes(w["db"], u, w["session"], True, 3),
                                      lambda w, a: srepo.get_session(w["db"], w["session"]).audience_quotes,
                                      {"owner"}),
}


@pytest.fixture(scope="module")
def write_world(tmp_path_factory):
    """A session of a project with three answering participants and a synthesis; members by project role."""
    db = open_database(tmp_path_factory.mktemp("writes") / "h.duckdb")
    users = {n: register(db, n, f"{n}@example.org", n.title(), "password123", "password123")
             for n in ["admin", "owner", "viewer", "editor", "outsider", "disabled"]}
    session = create_session(db, users["owner"], replace(BRIEF, name="Shared results"))
    set_status(db, users["owner"], session.id, "launched")
    project = create_project(db, users["owner"], "Writes project")
    add_session(db, users["owner"], project.id, session.id)
    for name, role in (("viewer", "viewer"), ("editor", "editor"), ("disabled", "owner")):
        grant(db, users["owner"], "project", project.id, users[name], role)
    set_visibility(db, users["owner"], session.id, "members")   # viewers read the results
    tokens = [conversation.join(db, session.id).token for _ in range(3)]
    for i, token in enumerate(tokens):
        conversation.send(db, token, f"{LONG} The billing screen needs work ({i}).")
    synthesize(db, [session.id])
    with db.write() as cur:
        cur.execute("UPDATE users SET disabled = TRUE WHERE username = 'disabled'")
    return {"db": db, "users": users, "session": session.id, "project": project.id,
            "participant": prepo.get_by_token(db, tokens[0]).id}


WRITE_CASES = [(write, actor) for write in WRITES for actor in WRITE_ACTORS]


@pytest.mark.parametrize("write, actor", WRITE_CASES, ids=[f"{w}-{a}" for w, a in WRITE_CASES])
def test_shared_results_writes(write_world, write, actor, monkeypatch):
    monkeypatch.setenv("HARMONICA_AUTO_SYNTHESIS", "0")   # excluding a participant would start a timed refresh
    prepare, act, observe, allowed = WRITES[write]
    w = write_world
    user = urepo.get_by_username(w["db"], actor) if actor in w["users"] else None   # as signed in: read afresh
    argument = prepare(w)
    before = observe(w, argument)
    if actor in allowed:
        act(w, user, argument)
        assert observe(w, argument) != before, f"{actor} should be able to {write}"
    else:
        with pytest.raises(AccessDenied):
            act(w, user, argument)
        assert observe(w, argument) == before, f"{actor} must not {write}"
