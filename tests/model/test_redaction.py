"""Redaction before model calls: emails, phone numbers and declared names never reach the model."""

from __future__ import annotations

import json

from core import conversation, modes, results
from core.forms import FormField
from core.repos import sessions as srepo
from core.sessions import save_privacy
from tests.helpers import LONG, launched_session
from tests.model.conftest import CHAT

FORM = [FormField("name", "Your name", "short_text", identifying=True)]
SECRET = "Reach me at jo.doe@example.org or +44 20 7946 0958, Jolene Doe here."


def test_facilitation_requests_are_redacted_when_the_session_asks(db, creator, model_env):
    s = launched_session(db, creator, form=FORM)
    save_privacy(db, creator, s.id, "", redact=True)
    p = conversation.join(db, s.id, {"name": "Jolene Doe"}, ask_first=False)
    model_env.script({"content": "Welcome! What went well?"}, {"content": "Thanks. What hurt?"})
    conversation.respond(db, p.token, modes.facilitator(db))
    conversation.send(db, p.token, f"{SECRET} {LONG}", modes.facilitator(db))
    bodies = json.dumps([r["body"] for r in model_env.requests(CHAT)])
    assert "jo.doe@example.org" not in bodies and "7946" not in bodies and "Jolene" not in bodies
    assert "[email]" in bodies and "[phone]" in bodies and "[name]" in bodies
    # what is stored and shown stays as the participant wrote it
    assert SECRET in conversation.load_chat(db, p.token).messages[-2].content


def test_a_new_session_redacts_without_anyone_asking(db, creator, model_env):
    s = launched_session(db, creator)
    assert srepo.get_session(db, s.id).redact
    p = conversation.join(db, s.id, ask_first=False)
    model_env.script({"content": "Welcome! What went well?"}, {"content": "Thanks. What hurt?"})
    conversation.respond(db, p.token, modes.facilitator(db))
    conversation.send(db, p.token, f"{SECRET} My name is Jolene Doe. {LONG}", modes.facilitator(db))
    bodies = json.dumps([r["body"] for r in model_env.requests(CHAT)])
    assert "jo.doe@example.org" not in bodies and "7946" not in bodies and "Jolene" not in bodies


def test_sessions_made_before_redaction_became_the_default_redact_after_the_upgrade(db, creator):
    from core.db import close_all, open_database

    s = launched_session(db, creator)
    with db.write() as cur:            # as an older release left it: redaction off, migration 0013 not run
        cur.execute("UPDATE sessions SET redact = false")
        cur.execute("DELETE FROM schema_migrations WHERE version = 13")
    path = db.path
    close_all()
    assert srepo.get_session(open_database(path), s.id).redact


def test_without_redaction_the_text_goes_as_written(db, creator, model_env):
    s = launched_session(db, creator)
    save_privacy(db, creator, s.id, "", redact=False)     # the owner's explicit choice
    p = conversation.join(db, s.id, ask_first=False)
    model_env.script({"content": "Welcome! What went well?"}, {"content": "Thanks. What hurt?"})
    conversation.respond(db, p.token, modes.facilitator(db))
    conversation.send(db, p.token, f"{SECRET} {LONG}", modes.facilitator(db))
    assert "jo.doe@example.org" in json.dumps([r["body"] for r in model_env.requests(CHAT)])


def test_model_synthesis_requests_are_redacted(db, creator, model_env):
    s = launched_session(db, creator, form=FORM)
    save_privacy(db, creator, s.id, "", redact=True)
    for i in range(4):
        p = conversation.join(db, s.id, {"name": "Jolene Doe"})
        conversation.send(db, p.token, f"{SECRET} {LONG} ({i})")
    assert srepo.get_session(db, s.id).redact
    results.open(db, creator, s.id).run_synthesis(mode="model")
    sent = json.dumps([r["body"] for r in model_env.requests()])
    assert model_env.requests(), "the model was called"
    assert "jo.doe@example.org" not in sent and "Jolene" not in sent and "7946" not in sent
