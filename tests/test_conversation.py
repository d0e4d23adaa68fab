import pytest

from core import conversation
from core.conversation import ChatUnavailable, FormErrors
from core.facilitation.offline import OfflineFacilitator
from core.facilitation.tracker import is_skip
from core.forms import FormField
from core.repos import participants as prepo
from core.sessions import set_status
from tests.helpers import LONG, launched_session

pytestmark = pytest.mark.both_backends


def kinds(db, token):
    return [(m.role, m.kind, m.step) for m in conversation.load_chat(db, token).messages]


def test_join_asks_the_first_question_with_a_welcome(db, creator):
    s = launched_session(db, creator)
    p = conversation.join(db, s.id)
    chat = conversation.load_chat(db, p.token)
    assert [(m.role, m.kind) for m in chat.messages] == [("facilitator", "question")]
    assert "Welcome" in chat.messages[0].content and chat.steps[0].question in chat.messages[0].content
    assert chat.progress == (1, 4)
    assert "I will ask you 4 questions" in chat.messages[0].content


def test_a_one_question_guide_says_one_question():
    from core.facilitation.offline import OfflineFacilitator
    from core.facilitation.protocol import Action, Step, TurnContext, TurnPlan

    ctx = TurnContext("Pulse", "en", "", [Step("How was the week?")], TurnPlan(Action.ASK, 0, "start"), [])
    text = "".join(OfflineFacilitator().stream(ctx))
    assert "I will ask you 1 question," in text and "1 questions" not in text


def test_full_scripted_conversation_probe_skip_and_recap(db, creator):
    s = launched_session(db, creator)
    token = conversation.join(db, s.id).token
    conversation.send(db, token, "Pairing")                 # thin: one probe
    conversation.send(db, token, "ok")                      # thin again, but already probed: move on
    conversation.send(db, token, "I don't know")           # skip
    conversation.send(db, token, LONG)                      # full answer: move on
    result = conversation.send(db, token, LONG + " Also fewer meetings.")  # last step
    assert kinds(db, token) == [
        ("facilitator", "question", 0), ("participant", "answer", 0), ("facilitator", "probe", 0),
        ("participant", "answer", 0), ("facilitator", "question", 1), ("participant", "skip", 1),
        ("facilitator", "question", 2), ("participant", "answer", 2), ("facilitator", "question", 3),
        ("participant", "answer", 3), ("facilitator", "recap", 3),
    ]
    recap = result.message.content
    assert "recap" in recap and "Pairing. ok." in recap and "(skipped)" in recap and "Thank you for your time" in recap
    assert "that was the last question" in recap and "\n• " in recap and "\n- " not in recap
    assert db.fetchone("SELECT ended_early FROM participants WHERE token = ?", [token]) == (False,)
    chat = conversation.load_chat(db, token)
    assert chat.finished and chat.participant.finished_at is not None
    with pytest.raises(ChatUnavailable, match="finished"):
        conversation.send(db, token, "one more thing")


def test_skip_button_and_finish_any_time(db, creator):
    s = launched_session(db, creator)
    token = conversation.join(db, s.id).token
    conversation.record_skip(db, token)
    conversation.respond(db, token)
    assert conversation.load_chat(db, token).participant.step == 1
    msg = conversation.finish(db, token)
    assert msg.kind == "recap"
    assert conversation.load_chat(db, token).finished
    # stopped at step 2 of 4: told so (never "that was the last question") and counted apart
    assert "we will stop here" in msg.content and "last question" not in msg.content
    assert db.fetchone("SELECT ended_early FROM participants WHERE token = ?", [token]) == (True,)
    from core import results

    ov = results.open(db, creator, s.id).overview()
    assert (ov.finished, ov.ended_early) == (1, 1)


def test_earlier_conversations_that_ended_early_are_found_by_the_migration(db, creator):
    """Migration 0012 backfills: a recap before the last step's answer is an early end, a full one is not."""
    from core.db import close_all, open_database

    s = launched_session(db, creator)
    early, done = conversation.join(db, s.id).token, conversation.join(db, s.id).token
    conversation.send(db, early, LONG)
    conversation.finish(db, early)
    for _ in range(4):
        conversation.send(db, done, LONG)
    with db.write() as cur:            # the rows as an older release left them: the flag at its default
        cur.execute("UPDATE participants SET ended_early = false")
        cur.execute("DELETE FROM schema_migrations WHERE version = 12")
    path = db.path
    close_all()
    again = open_database(path)        # migrates it again
    flags = dict(again.fetchall("SELECT token, ended_early FROM participants"))
    assert flags == {early: True, done: False}


def test_participant_message_is_committed_before_the_reply_and_resumes(db, creator):
    s = launched_session(db, creator)
    token = conversation.join(db, s.id).token

    class Broken:   # a model facilitator whose every call fails
        source, retries, retry_delay_s = "model", 0, 0.0

        def reply(self, ctx):
            raise RuntimeError("boom")

        def stream(self, ctx):
            raise RuntimeError("boom")
            yield ""

    assert conversation.record_answer(db, token, LONG).error is None
    chat = conversation.load_chat(db, token)
    assert chat.awaiting_reply and chat.messages[-1].content == LONG
    # a second message cannot overtake the owed reply
    assert conversation.record_answer(db, token, "another").error
    # the failed facilitator falls back to offline wording; no error text is stored
    reply = conversation.respond(db, token, Broken())
    assert reply.source == "offline" and "boom" not in reply.content
    assert not conversation.load_chat(db, token).awaiting_reply


def test_offline_facilitator_is_deterministic(db, creator):
    s = launched_session(db, creator)
    script = ["short", LONG, "no idea", LONG, LONG]
    transcripts = []
    for _ in range(2):
        token = conversation.join(db, s.id).token
        for text in script:
            conversation.send(db, token, text)
        transcripts.append([(m.role, m.content) for m in conversation.load_chat(db, token).messages])
    assert transcripts[0] == transcripts[1]


def test_bad_messages_are_refused_and_nothing_is_stored(db, creator):
    s = launched_session(db, creator)
    token = conversation.join(db, s.id).token
    for bad in ["", "   ", "x" * 4001]:
        assert conversation.record_answer(db, token, bad).error
    assert len(conversation.load_chat(db, token).messages) == 1
    result = conversation.record_answer(db, token, "fine\x00 answer")
    assert result.error is None and result.notice and result.message.content == "fine answer"


def test_turn_limit_closes_the_conversation(db, creator):
    s = launched_session(db, creator, max_turns=3)
    token = conversation.join(db, s.id).token
    for _ in range(3):
        conversation.send(db, token, "short")
    chat = conversation.load_chat(db, token)
    assert chat.finished and "limit" in chat.messages[-1].content


def test_form_is_validated_before_anything_is_created(db, creator):
    form = [FormField("team", "Team", "single_choice", True, ["A", "B"]), FormField("mail", "Email", "email")]
    s = launched_session(db, creator, form=form)
    with pytest.raises(FormErrors) as exc:
        conversation.join(db, s.id, {"mail": "nope"})
    assert set(exc.value.errors) == {"team", "mail"}
    assert prepo.list_participants(db, s.id) == []
    p = conversation.join(db, s.id, {"team": "B", "mail": "a@b.org"})
    assert prepo.get_form_answers(db, p.id) == {"team": "B", "mail": "a@b.org"}
    # form answers are rows, never a chat message
    assert all("a@b.org" not in m.content for m in conversation.load_chat(db, p.token).messages)


def test_unknown_draft_and_closed_sessions_are_explained(db, creator):
    with pytest.raises(ChatUnavailable, match="does not lead"):
        conversation.open_session(db, "nope")
    with pytest.raises(ChatUnavailable, match="does not lead"):
        conversation.open_session(db, None)
    from core.sessions import create_session
    from tests.helpers import BRIEF

    draft = create_session(db, creator, BRIEF)
    with pytest.raises(ChatUnavailable, match="not opened yet"):
        conversation.join(db, draft.id)
    s = launched_session(db, creator)
    token = conversation.join(db, s.id).token
    set_status(db, creator, s.id, "closed")
    with pytest.raises(ChatUnavailable, match="closed"):
        conversation.join(db, s.id)
    with pytest.raises(ChatUnavailable, match="closed"):
        conversation.record_answer(db, token, LONG)
    with pytest.raises(ChatUnavailable, match="could not find"):
        conversation.load_chat(db, "not-a-token")


def test_signed_in_participant_resumes_the_same_conversation(db, creator, other_user):
    s = launched_session(db, creator)
    first = conversation.join(db, s.id, user_id=other_user.id)
    again = conversation.join(db, s.id, user_id=other_user.id)
    assert first.id == again.id


@pytest.mark.parametrize("text, expected", [
    ("skip", True), ("I don't know", True), ("I don’t know.", True), ("No idea!", True), ("pass", True),
    ("I don't know why the deploys are slow", False), ("Skipping meetings helped", False),
])
def test_skip_detection(text, expected):
    assert is_skip(text, "en") is expected


def test_skip_detection_in_french():
    assert is_skip("Je ne sais pas", "fr")


def test_stream_and_reply_agree():
    from core.facilitation.protocol import Action, TurnContext, TurnPlan
    from core.guide import Step

    ctx = TurnContext("S", "en", "obj", [Step("Q1?", "P1?")], TurnPlan(Action.ASK, 0, "start"), [])
    f = OfflineFacilitator()
    assert "".join(f.stream(ctx)) == f.reply(ctx)


def test_participant_language_choice_when_allowed(db, creator):
    from core.sessions import SessionSettings, save_settings

    s = launched_session(db, creator)
    fixed = conversation.join(db, s.id, language="fr")
    assert conversation.load_chat(db, fixed.token).language == "en"  # not allowed: the session's language
    save_settings(db, creator, s.id, SessionSettings(language="en", language_choice=True))
    chosen = conversation.join(db, s.id, language="fr")
    chat = conversation.load_chat(db, chosen.token)
    assert chat.language == "fr" and chat.messages[0].content.startswith("Bienvenue")
    assert conversation.turn_context(chat, conversation.next_plan(chat)).language == "fr"  # what a model sees
    assert conversation.load_chat(db, conversation.join(db, s.id, language="xx").token).language == "en"


def test_offline_facilitator_varies_its_thanks_and_probes_from_the_participants_words(db, creator):
    s = launched_session(db, creator)
    token = conversation.join(db, s.id).token
    probe = conversation.send(db, token, "Pairing, mostly.").message.content
    assert probe.startswith("You mentioned “Pairing, mostly”.") and probe.endswith("?")
    leads = []
    for _ in range(3):
        reply = conversation.send(db, token, LONG).message.content
        leads.append(reply.split("?")[0])
    # three questions in a row, three different acknowledgements
    assert len({lead.split(".")[0] for lead in leads[:2]}) == 2
    # a later probe picks up the words in other words
    later = conversation.send(db, token, "Fewer meetings.").message.content
    assert "“Fewer meetings”" in later and not later.startswith("You mentioned"), later
    # a long answer is never quoted back whole
    token2 = conversation.join(db, s.id).token
    assert "You mentioned" not in conversation.send(db, token2, LONG).message.content


def test_a_paused_or_full_model_endpoint_is_not_tried_again_within_a_turn(db, creator):
    from core.llm.gate import LLMUnavailable

    class Paused:                       # what the model facilitator raises when the endpoint's gate refuses
        source, retries, calls = "model", 2, 0

        def stream(self, ctx):
            Paused.calls += 1
            raise LLMUnavailable("Calls to the model are paused for 30 s after 5 failures in a row.")
            yield ""

        reply = stream

    s = launched_session(db, creator)
    p = conversation.join(db, s.id, ask_first=False)
    shown: list[str] = []
    conversation.respond(db, p.token, Paused(), on_text=shown.append)
    chat = conversation.load_chat(db, p.token)
    assert Paused.calls == 1 and not any("Trying again" in t for t in shown)
    assert chat.messages[-1].source == "offline" and "paused" not in chat.messages[-1].content
