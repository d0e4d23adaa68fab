"""Simulated participants: scripted offline personas or model-written ones, marked and left out of results."""

from __future__ import annotations

import pytest

from core import modes, results, sessions, simulation
from core.forms import FormField
from core.repos import participants as prepo
from core.sessions import InvalidInput
from tests.helpers import BRIEF, launched_session
from tests.model.conftest import CHAT

FORM = [FormField("email", "Email", "email", required=True),
        FormField("team", "Team", "single_choice", True, ["Web", "Mobile"], share_with_model=True),
        FormField("ok", "I agree", "consent", required=True)]


def test_offline_personas_run_to_the_end_and_are_excluded_from_results(db, creator):
    s = launched_session(db, creator, form=FORM)
    progress = []
    run = simulation.run_simulation(db, creator, s.id, 4, on_progress=lambda i, n, name: progress.append((i, n)))
    assert run.personas == "offline" and run.facilitator == "offline"
    assert progress == [(1, 4), (2, 4), (3, 4), (4, 4)]
    people = prepo.list_participants(db, s.id)
    assert len(people) == 4 and all(p.simulated and p.status == "finished" for p in people)
    kinds = {m.kind for p in people for m in prepo.list_messages(db, p.id)}
    assert {"question", "answer", "recap"} <= kinds and ("probe" in kinds or "skip" in kinds)
    assert prepo.get_form_answers(db, people[0].id)["email"].endswith("@example.invalid")
    r = results.open(db, creator, s.id).participants()
    assert r.started == 0 and r.finished == 0 and r.included == 0


def test_draft_sessions_can_be_simulated_closed_ones_cannot(db, creator, other_user):
    draft = sessions.create_session(db, creator, BRIEF)
    assert len(simulation.run_simulation(db, creator, draft.id, 1).participant_ids) == 1
    with pytest.raises(InvalidInput):
        simulation.run_simulation(db, creator, draft.id, 0)
    with pytest.raises(InvalidInput):
        simulation.run_simulation(db, creator, draft.id, simulation.MAX_SIMULATED + 1)
    from core.permissions import AccessDenied

    with pytest.raises(AccessDenied):
        simulation.run_simulation(db, other_user, draft.id, 1)
    launched = sessions.set_status(db, creator, draft.id, "launched")
    closed = sessions.set_status(db, creator, launched.id, "closed")
    with pytest.raises(InvalidInput, match="closed"):
        simulation.run_simulation(db, creator, closed.id, 1)


def test_model_personas_and_answers_with_the_model_facilitator(db, creator, model_env):
    s = launched_session(db, creator)
    model_env.script({"content": '{"personas": [{"name": "Ada", "description": "a tired but hopeful engineer"}]}'})
    run = simulation.run_simulation(db, creator, s.id, 2, model=modes.client(db), facilitator=modes.facilitator(db))
    assert run.personas == "model" and run.facilitator == "model"
    people = prepo.list_participants(db, s.id)
    assert all(p.simulated and p.status == "finished" for p in people)
    facilitator_sources = {m.source for p in people for m in prepo.list_messages(db, p.id) if m.role == "facilitator"}
    assert facilitator_sources == {"model"}
    sent = [r["body"] for r in model_env.requests(CHAT)]
    role_play = [b for b in sent if "role-playing a survey participant" in b["messages"][0]["content"]]
    assert role_play and all("Ada" in b["messages"][0]["content"] for b in role_play)


def test_a_failing_model_falls_back_to_scripted_personas(db, creator, model_env):
    s = launched_session(db, creator)
    model_env.script({"status": 500}, {"status": 500}, {"status": 500}, {"status": 500})
    run = simulation.run_simulation(db, creator, s.id, 1, model=modes.client(db))
    assert run.personas == "offline"
    assert prepo.list_participants(db, s.id)[0].status == "finished"
