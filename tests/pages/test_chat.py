from core import conversation
from core.forms import FormField
from core.repos import participants as prepo
from core.sessions import create_session, set_status
from tests.helpers import BRIEF, LONG, launched_session
from tests.pages.apptest import app, texts

FORM = [FormField("team", "Team", "single_choice", True, ["Red", "Blue"]),
        FormField("age", "Age", "number", False, [], 18, 99)]


def chat_app(**query):
    return app("pages/chat.py", query=query)


def test_unknown_draft_and_closed_links_are_explained(db, creator):
    at = chat_app(s="nope").run()
    assert not at.exception and "does not lead to any session" in texts(at)
    draft = create_session(db, creator, BRIEF)
    assert "not opened yet" in texts(chat_app(s=draft.id).run())
    closed = launched_session(db, creator)
    set_status(db, creator, closed.id, "closed")
    assert "closed" in texts(chat_app(s=closed.id).run())
    assert "could not find this conversation" in texts(chat_app(s=closed.id, p="bad-token").run())


def test_form_errors_are_shown_next_to_fields_and_nothing_is_created(db, creator):
    s = launched_session(db, creator, form=FORM)
    at = chat_app(s=s.id).run()
    assert "Team retro" in texts(at) and "What happens to your words" in texts(at)
    assert "numbered participant" in texts(at)  # the default consent text
    at.text_input[0].input("12")
    at.button[0].click().run()
    errors = [e.value for e in at.error]
    assert "This field is required." in errors and any("at least 18" in e for e in errors)
    assert prepo.list_participants(db, s.id) == []


def test_participant_journey_with_token_in_url(db, creator):
    s = launched_session(db, creator, form=FORM)
    at = chat_app(s=s.id).run()
    at.radio[0].set_value("Blue")
    at.button[0].click().run()
    assert "Please agree to take part" in texts(at)  # consent first
    assert prepo.list_participants(db, s.id) == []
    at.checkbox(key="consent").check()
    at.button[0].click().run()
    token = at.query_params["p"]
    token = token[0] if isinstance(token, list) else token
    assert prepo.get_by_token(db, token) is not None
    assert "Step 1 of 4" in at.get("progress")[0].proto.text
    assert "Welcome" in texts(at)

    at.text_area[0].input(LONG)
    next(b for b in at.button if b.label == "Send").click().run()
    assert "Step 2 of 4" in at.get("progress")[0].proto.text
    assert LONG in texts(at)
    assert at.text_area[0].value == ""

    # a reload (new browser session with the same URL) resumes the conversation
    again = chat_app(s=s.id, p=token).run()
    assert "Step 2 of 4" in again.get("progress")[0].proto.text and LONG in texts(again)

    next(b for b in again.button if b.label == "Finish").click().run()
    assert "recap" in texts(again) and "finished this conversation" in texts(again)
    assert conversation.load_chat(db, token).finished


def test_too_long_message_is_refused_and_kept(db, creator):
    s = launched_session(db, creator)
    token = conversation.join(db, s.id).token
    at = chat_app(s=s.id, p=token).run()
    text = "word " * 900
    at.text_area[0].input(text)
    next(b for b in at.button if b.label == "Send").click().run()
    assert any("limit is 4,000" in e.value for e in at.error)
    assert at.text_area[0].value == text
    assert len(conversation.load_chat(db, token).messages) == 1


def test_skip_moves_on(db, creator):
    s = launched_session(db, creator)
    token = conversation.join(db, s.id).token
    at = chat_app(s=s.id, p=token).run()
    next(b for b in at.button if b.label == "Skip").click().run()
    assert "Step 2 of 4" in at.get("progress")[0].proto.text
    assert "No problem" in texts(at)


def test_owed_reply_is_computed_on_load(db, creator):
    s = launched_session(db, creator)
    token = conversation.join(db, s.id).token
    conversation.record_answer(db, token, LONG)  # as if the reply had failed last time
    at = chat_app(s=s.id, p=token).run()
    assert not at.exception
    assert not conversation.load_chat(db, token).awaiting_reply
    assert "Step 2 of 4" in at.get("progress")[0].proto.text


def test_participant_text_is_rendered_inert(db, creator):
    s = launched_session(db, creator)
    token = conversation.join(db, s.id).token
    bait = "![x](http://127.0.0.1:9/t.png) <img src=x onerror=alert(1)> **bold**"
    conversation.send(db, token, bait)
    at = chat_app(s=s.id, p=token).run()
    # shown with st.text: literal characters, no Markdown (no image, no link, no bold) and no HTML
    assert bait in [e.value for e in at.text]
    assert not [m.value for m in at.markdown if "127.0.0.1" in m.value]


def test_finished_conversation_offers_transcript_download(db, creator):
    s = launched_session(db, creator)
    token = conversation.join(db, s.id).token
    conversation.finish(db, token)
    at = chat_app(s=s.id, p=token).run()
    assert "finished this conversation" in texts(at)
    assert not [b for b in at.button if b.label == "Send"]


def test_participant_can_delete_their_participation(db, creator):
    s = launched_session(db, creator)
    token = conversation.join(db, s.id).token
    conversation.send(db, token, LONG)
    at = chat_app(s=s.id, p=token).run()
    next(b for b in at.button if b.label == "Delete my participation").click().run()
    next(b for b in at.button if b.label == "Delete everything").click().run()
    assert prepo.get_by_token(db, token) is None
    assert "has been deleted" in texts(at)
