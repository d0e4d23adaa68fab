"""Each fault of the model: the participant's message is kept, an apology and a retry are shown, then the
offline facilitator continues the step; no error text is ever stored as a message; every attempt is logged."""

from __future__ import annotations

import pytest

from core import conversation, modes
from core.i18n import phrase
from core.repos import calls as crepo
from tests.fakes.fake_openai import closed_port_url
from tests.helpers import LONG, launched_session
from tests.model.conftest import TOO_LATE_S

FAULTS = {
    "timeout": ({"delay": TOO_LATE_S}, "timeout"),
    "http_500": ({"status": 500}, "server_error"),
    "http_429": ({"status": 429}, "rate_limit"),
    "malformed": ({"raw": "{not json"}, "bad_output"),
    "cut_stream": ({"cut_stream": True}, "connection"),
    "cut_stream_graceful": ({"cut_stream": "graceful"}, "connection"),
    "empty": ({"empty": True}, "bad_output"),
    "runs_on_past_the_cap": ({"endless": True, "chunk_delay": 0}, "bad_output"),
}
ERROR_WORDS = ("error", "HTTP", "127.0.0.1", "timeout", "did not answer", "rate-limit", "Try again")


def _started(db, creator, model_env):
    s = launched_session(db, creator)
    fac = modes.facilitator(db)
    fac.retry_delay_s = 0
    token = conversation.join(db, s.id, ask_first=False).token
    model_env.script({"content": "Welcome! What went well in this sprint?"})
    conversation.respond(db, token, fac)
    return s, fac, token


@pytest.mark.parametrize("fault", list(FAULTS))
def test_fault_keeps_the_message_apologises_retries_then_continues_offline(db, creator, model_env, fault):
    reply, outcome = FAULTS[fault]
    s, fac, token = _started(db, creator, model_env)
    assert conversation.record_answer(db, token, LONG).error is None
    model_env.script(reply, reply)  # the first try and the one retry (HARMONICA_LLM_RETRIES=1) both fail
    shown: list[str] = []
    message = conversation.respond(db, token, fac, on_text=shown.append)

    chat = conversation.load_chat(db, token)
    answers = [m for m in chat.messages if m.role == "participant"]
    assert [m.content for m in answers] == [LONG]                      # the participant's message is kept
    assert message.source == "offline" and message.kind == "question"  # the offline facilitator continued
    assert chat.steps[1].question in message.content and chat.participant.step == 1
    apology = phrase("en", "retry_apology")
    assert shown.count(apology) == 2 and shown[-1] == message.content  # apology per failed try, then the reply
    for m in chat.messages:                                            # no error text stored as content
        assert m.content != apology and not any(word in m.content for word in ERROR_WORDS)
    calls = crepo.calls_frame(db).sort_values("created_at").to_dict("records")
    assert [c["outcome"] for c in calls] == ["ok", outcome, outcome]
    assert all(c["participant_id"] == chat.participant.id for c in calls)
    assert all(c["error"] for c in calls[1:]) and "sk-test" not in " ".join(c["error"] for c in calls[1:])

    # the next turn goes back to the model
    model_env.script({"content": "Thanks. What would you change?"})
    again = conversation.send(db, token, LONG, fac)
    assert again.message.source == "model"


def test_a_model_that_never_stops_gives_the_participant_the_offline_reply_by_the_deadline(
        db, creator, model_env, monkeypatch):
    """A base model streaming junk and ignoring max_tokens: cut at the deadline (1 s here), twice, then the
    offline facilitator asks the next question and the answer box comes back (the conversation moves on)."""
    from core import config

    monkeypatch.setenv("HARMONICA_LLM_DEADLINE", "1")
    config.settings.cache_clear()
    modes.close_clients()
    s, fac, token = _started(db, creator, model_env)
    assert conversation.record_answer(db, token, LONG).error is None
    endless = {"endless": True, "ignore_max_tokens": True, "chunk_delay": 0.02}
    model_env.script(endless, endless)
    message = conversation.respond(db, token, fac)
    chat = conversation.load_chat(db, token)
    assert message.source == "offline" and chat.steps[1].question in message.content
    assert not chat.awaiting_reply and not chat.finished               # the participant can answer again
    assert "junk" not in " ".join(m.content for m in chat.messages)
    calls = crepo.calls_frame(db).sort_values("created_at").to_dict("records")
    assert [c["outcome"] for c in calls] == ["ok", "timeout", "timeout"]


def test_a_hung_model_gets_one_second_chance_in_a_participants_turn(db, creator, model_env, monkeypatch):
    """Three retries allowed, but two timeouts end the wait: the offline facilitator answers after two tries."""
    from core import config

    monkeypatch.setenv("HARMONICA_LLM_RETRIES", "3")
    config.settings.cache_clear()
    modes.close_clients()
    s, fac, token = _started(db, creator, model_env)
    assert fac.retries == 3
    conversation.record_answer(db, token, LONG)
    hung = {"delay": TOO_LATE_S, "content": "too late"}
    model_env.script(hung, hung, hung, hung)
    message = conversation.respond(db, token, fac)
    assert message.source == "offline"
    calls = crepo.calls_frame(db).sort_values("created_at").to_dict("records")
    assert [c["outcome"] for c in calls] == ["ok", "timeout", "timeout"]


def test_a_retry_that_succeeds_is_the_models_reply(db, creator, model_env):
    s, fac, token = _started(db, creator, model_env)
    conversation.record_answer(db, token, LONG)
    model_env.script({"status": 500}, {"content": "Sorry for the wait. What hurt?"})
    shown: list[str] = []
    message = conversation.respond(db, token, fac, on_text=shown.append)
    assert message.source == "model" and message.content == "Sorry for the wait. What hurt?"
    assert shown.count(phrase("en", "retry_apology")) == 1


def test_unreachable_server_continues_offline(db, creator, model_env, monkeypatch):
    s = launched_session(db, creator)
    monkeypatch.setenv("OPENAI_BASE_URL", closed_port_url())
    from core import config

    config.settings.cache_clear()
    fac = modes.facilitator(db)
    fac.retry_delay_s = 0
    p = conversation.join(db, s.id, ask_first=False)
    first = conversation.respond(db, p.token, fac)
    assert first.source == "offline" and "Welcome" in first.content
    assert list(crepo.calls_frame(db)["outcome"]) == ["connection", "connection"]


def test_finish_with_a_failing_model_still_ends_with_the_offline_recap(db, creator, model_env):
    s, fac, token = _started(db, creator, model_env)
    conversation.send(db, token, LONG, fac)
    model_env.script({"status": 503}, {"status": 503})
    recap = conversation.finish(db, token, fac)
    assert recap.kind == "recap" and recap.source == "offline" and LONG[:40] in recap.content
    assert conversation.load_chat(db, token).finished
