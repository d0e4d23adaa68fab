"""The model facilitator: streaming, what it sees (and never sees), the tracker deciding the end, bounded context."""

from __future__ import annotations

import json

from core import conversation, modes
from core.facilitation.model import (
    DIGEST_BUDGET_CHARS,
    EARLIER_MESSAGE,
    PROMPT_VERSION,
    ModelFacilitator,
    system_prompt,
)
from core.facilitation.protocol import Action, TurnContext, TurnPlan
from core.forms import FormField
from core.guide import Step
from core.repos import calls as crepo
from tests.helpers import LONG, launched_session
from tests.model.conftest import CHAT, bodies

FORM = [
    FormField("name", "Your name", "short_text", required=True),
    FormField("email", "Email", "email", required=True),
    FormField("role", "Role", "single_choice", True, ["Engineer", "Designer"], share_with_model=True),
]


def test_replies_stream_from_the_model_and_are_stored_as_model_messages(db, creator, model_env):
    s = launched_session(db, creator)
    fac = modes.facilitator(db)
    p = conversation.join(db, s.id, ask_first=False)
    model_env.script({"content": "Welcome to the retro! What went well in this sprint?"})
    seen: list[str] = []
    opening = conversation.respond(db, p.token, fac, on_text=seen.append)
    assert opening.source == "model" and opening.kind == "question"
    assert opening.content == "Welcome to the retro! What went well in this sprint?"
    assert len(seen) > 1 and seen[-1] == opening.content  # streamed in pieces, growing
    [request] = model_env.requests(CHAT)
    body = request["body"]
    assert body["stream"] is True and body["model"] == "fake-chat"
    system = body["messages"][0]["content"]
    assert body["messages"][0]["role"] == "system"
    assert "English" in system and s.objective in system and "Current step: 1 of 4" in system
    assert all(step.question in system for step in conversation.load_chat(db, p.token).steps)
    [call] = crepo.calls_frame(db).to_dict("records")
    assert (call["purpose"], call["prompt_version"], call["outcome"]) == ("facilitation.turn", PROMPT_VERSION, "ok")
    assert (call["session_id"], call["participant_id"]) == (s.id, p.id)


def test_the_step_tracker_decides_the_end_without_extra_model_calls(db, creator, model_env):
    s = launched_session(db, creator)
    fac = modes.facilitator(db)
    token = conversation.join(db, s.id, ask_first=False).token
    conversation.respond(db, token, fac)
    for _ in range(4):  # four full answers: one per step, then the recap
        result = conversation.send(db, token, LONG, fac)
    chat = conversation.load_chat(db, token)
    assert chat.finished and result.message.kind == "recap" and result.message.source == "model"
    facilitator_messages = [m for m in chat.messages if m.role == "facilitator"]
    # one request per facilitator message: nothing asks the model whether to stop
    assert len(model_env.requests(CHAT)) == len(facilitator_messages) == 5
    last_system = model_env.requests(CHAT)[-1]["body"]["messages"][0]["content"]
    assert "The conversation is over" in last_system and "Ask no question" in last_system


def test_session_language_is_in_the_system_prompt(db, creator, model_env):
    s = launched_session(db, creator, language="fr")
    token = conversation.join(db, s.id, ask_first=False).token
    conversation.respond(db, token, modes.facilitator(db))
    system = model_env.requests(CHAT)[0]["body"]["messages"][0]["content"]
    assert "write every message in Français (language code fr)" in system


def test_another_participants_words_never_reach_the_model(db, creator, model_env):
    s = launched_session(db, creator)
    fac = modes.facilitator(db)
    first = conversation.join(db, s.id, ask_first=False).token
    conversation.respond(db, first, fac)
    secret = "Zanzibar-marmalade-47 is what I remember most from the sprint, honestly and truly."
    conversation.send(db, first, secret, fac)
    model_env.reset()
    second = conversation.join(db, s.id, ask_first=False).token
    conversation.respond(db, second, fac)
    conversation.send(db, second, LONG, fac)
    conversation.finish(db, second, fac)
    sent = bodies(model_env)
    assert len(sent) == 3 and all("Zanzibar" not in body for body in sent)
    assert any(LONG in body for body in sent)


def test_only_form_fields_marked_shareable_reach_the_model(db, creator, model_env):
    s = launched_session(db, creator, form=FORM)
    fac = modes.facilitator(db)
    answers = {"name": "Hortensia Quillfeather", "email": "hortensia.q@private.example", "role": "Designer"}
    token = conversation.join(db, s.id, answers, ask_first=False).token
    conversation.respond(db, token, fac)
    conversation.send(db, token, LONG, fac)
    conversation.finish(db, token, fac)
    sent = bodies(model_env)
    assert len(sent) == 3
    for body in sent:
        assert "Hortensia" not in body and "Quillfeather" not in body and "hortensia.q" not in body
        assert "Role: Designer" in body


def _long_guide(n: int) -> list[Step]:
    return [Step(f"Question number {i} about topic {i}, what do you think?", "Tell me more?", None)
            for i in range(1, n + 1)]


def _ctx(turns: int) -> TurnContext:
    """A context after `turns` participant answers of about 60 words each."""
    from core.facilitation.protocol import Turn

    steps = _long_guide(25)
    history = []
    for i in range(turns):
        history.append(Turn("facilitator", "question", i, steps[i].question))
        history.append(Turn("participant", "answer", i, " ".join([f"word{i}"] * 60)))
    return TurnContext("Long survey", "en", "Objective text for the test.", steps,
                       TurnPlan(Action.ASK, turns, "answer"), history)


def test_context_is_bounded_old_turns_are_shortened(db):
    fac = ModelFacilitator(model=None)  # type: ignore[arg-type] - messages() does not call the model
    sizes = {n: len(json.dumps(fac.messages(_ctx(n)))) for n in (2, 10, 20, 24)}
    # older answers (~420 chars each) fold into a digest with a fixed budget: the prompt levels off
    assert sizes[20] < sizes[2] * 2
    assert (sizes[24] - sizes[20]) / 4 < 100
    digest = system_prompt(_ctx(24)).split("Earlier in this conversation")[1].split("Current step")[0]
    assert len(digest) < DIGEST_BUDGET_CHARS + 24 * 40  # the budget plus each line's "- Step n (…)" prefix
    messages = fac.messages(_ctx(20))
    # system, a user placeholder (so the turns start with the user), then the last six messages verbatim
    assert len(messages) == 1 + 1 + 6 and messages[1]["content"] == EARLIER_MESSAGE
    assert "Earlier in this conversation" in messages[0]["content"]
    assert "Current step: 21 of 25" in system_prompt(_ctx(20))


def test_emails_and_identifying_fields_are_never_shared_even_when_ticked(db, creator, model_env):
    form = [FormField("email", "Email", "email", required=True, share_with_model=True),
            FormField("nick", "Nickname", "short_text", required=True, share_with_model=True),
            FormField("role", "Role", "short_text", required=True, share_with_model=True)]
    form[1].identifying = True
    s = launched_session(db, creator, form=form)
    answers = {"email": "quentin.x@private.example", "nick": "Quentinator", "role": "Tester"}
    token = conversation.join(db, s.id, answers, ask_first=False).token
    conversation.respond(db, token, modes.facilitator(db))
    [body] = bodies(model_env)
    assert "quentin.x" not in body and "Quentinator" not in body and "Role: Tester" in body


def test_a_small_context_window_drops_old_messages_then_the_guide_never_the_current_step():
    from core.text import count_tokens

    ctx = _ctx(20)
    whole = ModelFacilitator(model=None).messages(ctx)  # type: ignore[arg-type]
    size = sum(count_tokens(m["content"]) for m in whole)
    for window in (size + 400 - 200, 1200, 600):           # a little short, a 2k-ish model, a very small one
        messages = ModelFacilitator(model=None, context_tokens=window).messages(ctx)  # type: ignore[arg-type]
        assert sum(count_tokens(m["content"]) for m in messages) < size
        assert messages[0]["role"] == "system" and messages[1]["role"] == "user" and messages[-1]["role"] == "user"
        assert "Current step: 21 of 25" in messages[0]["content"] and "Your task now" in messages[0]["content"]
        assert messages[-1] == whole[-1]                   # the participant's last message always goes
    tiny = ModelFacilitator(model=None, context_tokens=600).messages(ctx)  # type: ignore[arg-type]
    assert "The guide, in order" not in tiny[0]["content"] and len(tiny) < len(whole)
