"""Project-level synthesis: themes across the project's sessions, a per-session breakdown, and access."""

from __future__ import annotations

import random
from dataclasses import replace

import pytest

from core import results
from core.accounts import register
from core.permissions import AccessDenied
from core.projects import add_session, create_project, remove_session
from core.repos import synthesis as repo
from core.results import ProjectSynthesisError, project_scope, project_view, run_project_synthesis
from core.sessions import create_session, set_status
from core.sharing import set_visibility
from core.synthesis.figures import session_share_heatmap
from core.synthesis.pipeline import Params
from tests.helpers import BRIEF, grant
from tests.pages.apptest import app, texts
from tests.synthesis.helpers import add_participants, answers_for

K4 = Params(k=4)


def _session(db, owner, name):
    s = create_session(db, owner, replace(BRIEF, name=name))
    return set_status(db, owner, s.id, "launched")


def _answers(topics: list[str], seed: int) -> list[list[str]]:
    rng = random.Random(seed)
    return [[answers_for([t], rng)] for t in topics]


@pytest.fixture
def project_world(db, creator, other_user):
    """Two sessions in a project, one topic per participant so the expected breakdown is known:
    North: deploy ×4, coffee ×2, meetings ×2 · South: coffee ×3, onboarding ×4, meetings ×1."""
    north, south = _session(db, creator, "North office"), _session(db, creator, "South office")
    add_participants(db, north, _answers(["deploy"] * 4 + ["coffee"] * 2 + ["meetings"] * 2, 1))
    add_participants(db, south, _answers(["coffee"] * 3 + ["onboarding"] * 4 + ["meetings"], 2))
    project = create_project(db, creator, "Offices 2027")
    add_session(db, creator, project.id, north.id)
    add_session(db, creator, project.id, south.id)
    return project, north, south


def _majority(view, word):
    """The theme holding most statements that mention `word`."""
    about = view.statements[view.statements["text"].str.lower().str.contains(word)]
    tid = about["theme_id"].value_counts().idxmax()
    return next(t for t in view.themes if t.theme_id == tid)


def test_project_synthesis_counts_themes_across_sessions_with_a_session_breakdown(db, creator, project_world):
    project, north, south = project_world
    before = project_view(db, creator, project.id)
    assert before.view is None and [s.name for s in before.sessions] == ["North office", "South office"]
    assert before.hidden == 0

    out = run_project_synthesis(db, creator, project.id, params=K4)
    run = repo.get_run(db, out.run_id)
    assert run.scope == project_scope(project.id, [north.id, south.id]) and run.scope.startswith("project:")
    assert sorted(run.session_ids) == sorted([north.id, south.id])

    pv = project_view(db, creator, project.id)
    view = pv.view
    assert view is not None and view.session is None and view.run.id == out.run_id and view.up_to_date
    assert view.analysed == 16 and pv.session_sizes == {north.id: 8, south.id: 8}
    # themes are counted across both sessions: each theme's breakdown is its distinct participants per session
    assert sum(t.participants for t in view.themes) >= 16
    coffee = _majority(view, "coffee")
    assert set(coffee.sessions) == {north.id, south.id}        # raised in both offices
    for t in view.themes:
        st = view.statements[view.statements["theme_id"] == t.theme_id]
        assert t.sessions == {k: v for k, v in st.groupby("session_id")["participant_id"].nunique().items()}
        assert sum(t.sessions.values()) == t.participants      # a participant belongs to one session
    # quotes name the participant and their session
    names = {q.participant for t in view.themes for q in t.quotes}
    assert any(n.endswith("· North office") for n in names) and any(n.endswith("· South office") for n in names)
    fig = session_share_heatmap(view.themes, [(north.id, "North office"), (south.id, "South office")],
                                pv.session_sizes)
    assert len(fig.data[0].z) == len(view.themes) and len(fig.data[0].z[0]) == 2

    # a session's own results are unaffected: its scope is still the session id
    assert results.open(db, creator, north.id).synthesis_view() is None


def _store_run(db, scope, session_ids, theme_of):
    """A done run under `scope` with one statement per answer, its theme given by `theme_of(answer text)`."""
    import json

    import pandas as pd

    answers = repo.answers_frame(db, session_ids)
    answers = answers[answers["kind"] == "answer"]
    st = pd.DataFrame({"statement_id": [f"{m}:0" for m in answers["message_id"]],
                       "message_id": answers["message_id"], "participant_id": answers["participant_id"],
                       "session_id": answers["session_id"], "step": answers["step"], "critical_item": None,
                       "question": "Q", "start_pos": 0, "end_pos": answers["content"].str.len(),
                       "text": answers["content"], "content_hash": answers["message_id"],
                       "theme_id": [theme_of(t) for t in answers["content"]], "score": 1.0,
                       "sentiment": "neutral"})
    rows = []
    for i, (tid, g) in enumerate(st.groupby("theme_id")):
        rows.append({"theme_id": tid, "position": i, "label": tid, "description": "", "keywords": "[]",
                     "participants": g["participant_id"].nunique(), "mentions": len(g),
                     "sentiment": json.dumps({"neutral": len(g)}), "quotes": "[]", "centroid": None,
                     "origin": "cluster"})
    themes = pd.DataFrame(rows)
    run_id = repo.start_run(db, scope, session_ids, "full", "offline", "tfidf", {}, "constructed", "test")
    themes.insert(0, "run_id", run_id)
    repo.finish_run(db, run_id, themes, st.assign(run_id=run_id), summary="Constructed.", timings={},
                    stats={"participants": int(st["participant_id"].nunique()),
                           "participants_by_session": st.groupby("session_id")["participant_id"].nunique()
                           .astype(int).to_dict()}, model_id=None)
    return run_id


def test_breakdown_per_session_on_a_constructed_run(db, creator, project_world):
    """Themes fixed by hand (by topic word), so every count is known: the breakdown must match exactly."""
    project, north, south = project_world
    ids = sorted([north.id, south.id])
    topic = {"coffee": "coffee", "meeting": "meetings", "deploy": "deploy", "build": "deploy", "release": "deploy",
             "onboarding": "onboarding", "new hires": "onboarding", "newcomers": "onboarding", "espresso": "coffee"}

    def theme_of(text):
        low = text.lower()
        return next((v for k, v in topic.items() if k in low), "other")

    _store_run(db, project_scope(project.id, ids), ids, theme_of)
    pv = project_view(db, creator, project.id)
    by = {t.theme_id: t for t in pv.view.themes}
    assert by["coffee"].participants == 5 and by["coffee"].sessions == {north.id: 2, south.id: 3}
    assert by["meetings"].participants == 3 and by["meetings"].sessions == {north.id: 2, south.id: 1}
    assert by["deploy"].sessions == {north.id: 4} and by["onboarding"].sessions == {south.id: 4}
    assert pv.session_sizes == {north.id: 8, south.id: 8} and pv.view.analysed == 16
    fig = session_share_heatmap(pv.view.themes, [(north.id, "North office"), (south.id, "South office")],
                                pv.session_sizes)
    row = [t.theme_id for t in pv.view.themes].index("coffee")
    assert list(fig.data[0].z[row]) == [25.0, 37.5]


def test_new_answers_make_the_project_run_out_of_date_and_membership_changes_the_scope(db, creator, project_world):
    project, north, south = project_world
    run_project_synthesis(db, creator, project.id, params=K4)
    add_participants(db, south, _answers(["deploy"], 9))
    pv = project_view(db, creator, project.id)
    assert pv.view is not None and not pv.view.up_to_date
    remove_session(db, creator, project.id, south.id)
    pv = project_view(db, creator, project.id)
    assert [s.id for s in pv.sessions] == [north.id]
    assert pv.view is None and pv.scope == project_scope(project.id, [north.id])   # a new set, a new scope


def test_a_viewer_only_gets_the_sessions_whose_results_they_may_see(db, creator, other_user, project_world):
    project, north, south = project_world
    grant(db, creator, "project", project.id, other_user, "viewer")
    set_visibility(db, creator, north.id, "members")       # South stays "editors": closed to viewers
    run_project_synthesis(db, creator, project.id, params=K4)   # the owner's run covers both sessions

    pv = project_view(db, other_user, project.id)
    assert [s.id for s in pv.sessions] == [north.id] and pv.hidden == 1
    assert pv.view is None          # the owner's run over both sessions is never shown to the viewer
    assert not pv.can_write
    with pytest.raises(AccessDenied):   # a viewer reads: a run is shared by every member who sees these sessions
        run_project_synthesis(db, other_user, project.id, params=K4)
    grant(db, creator, "session", north.id, other_user, "editor")   # editor of North, still only a viewer of South
    assert project_view(db, other_user, project.id).can_write
    run_project_synthesis(db, other_user, project.id, params=K4)
    pv = project_view(db, other_user, project.id)
    assert pv.view.run.session_ids == [north.id]
    assert set(pv.view.statements["session_id"]) == {north.id} and pv.view.analysed == 8
    assert all(set(t.sessions) == {north.id} for t in pv.view.themes)
    # the owner still sees the run over both
    assert len(project_view(db, creator, project.id).view.run.session_ids) == 2


def test_non_members_and_anonymous_users_are_denied(db, creator, other_user, project_world):
    project, _, _ = project_world
    for user in (other_user, None):
        with pytest.raises(AccessDenied):
            project_view(db, user, project.id)
        with pytest.raises(AccessDenied):
            run_project_synthesis(db, user, project.id)
    with pytest.raises(AccessDenied):
        project_view(db, creator, "no-such-project")


def test_a_project_without_visible_sessions_cannot_run(db, creator):
    project = create_project(db, creator, "Empty one")
    pv = project_view(db, creator, project.id)
    assert pv.sessions == [] and pv.view is None
    with pytest.raises(ProjectSynthesisError):
        run_project_synthesis(db, creator, project.id)


def test_project_results_page_runs_and_shows_themes_by_session(db, creator, project_world):
    project, north, south = project_world
    carol = register(db, "carol", "carol@example.org", "Carol", "password123", "password123")
    at = app("pages/project_results.py", user=creator, query={"p": project.id}).run()
    assert not at.exception, at.exception
    shown = texts(at)
    assert "Project synthesis: Offices 2027" in shown and "North office" in shown and "South office" in shown
    assert "No project synthesis" in shown
    at.button(key="project_run").click().run()
    assert not at.exception, at.exception
    assert repo.latest_run(db, project_scope(project.id, [north.id, south.id])) is not None
    shown = texts(at)
    assert "Up to date" in shown and "Themes by session" in shown
    assert "· North office" in shown and "· South office" in shown
    assert len(at.get("plotly_chart")) == 2          # themes, and themes by session
    # the project page links here
    at2 = app("pages/projects.py", user=creator, query={"p": project.id}).run()
    assert not at2.exception
    assert any("project_results" in str(link.proto.page) for link in at2.get("page_link"))
    # someone else is told plainly, and sees nothing of the project
    at3 = app("pages/project_results.py", user=carol, query={"p": project.id}).run()
    assert not at3.exception
    assert "do not have access" in texts(at3) and "Offices 2027" not in texts(at3)
