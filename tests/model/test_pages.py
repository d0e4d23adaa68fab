"""Model mode in the pages (AppTest): streaming into the chat page, the admin page, the design page."""

from __future__ import annotations

import pytest

from core import conversation, sessions
from core.i18n import phrase
from core.repos import calls as crepo
from core.repos import participants as prepo
from core.repos import sessions as srepo
from tests.helpers import BRIEF, LONG, launched_session
from tests.model.conftest import API_KEY, CHAT, guide_json
from tests.pages.apptest import app, texts


def _button(at, label):
    return next(b for b in at.button if b.label == label)


def _all_text(at) -> str:
    """Visible text, including chat bubbles' captions and tables."""
    parts = [texts(at)] + [str(t.value) for t in at.get("table")]
    return "\n".join(parts)


# ------------------------------------------------------------------------------------------------- chat


def test_welcome_page_says_an_ai_model_facilitates(db, creator, model_env):
    s = launched_session(db, creator)
    at = app("pages/chat.py", query={"s": s.id}).run()
    assert not at.exception
    assert phrase("en", "model_note") in texts(at) and phrase("en", "offline_note") not in texts(at)


def test_chat_page_streams_model_replies_and_stores_them(db, creator, model_env):
    s = launched_session(db, creator)
    p = conversation.join(db, s.id, ask_first=False)  # as the page does in model mode
    model_env.script({"content": "Welcome to the retro! What went well for you this sprint?"},
                     {"content": "Thank you. What hurt during the sprint?"})
    at = app("pages/chat.py", query={"p": p.token}).run()
    assert not at.exception
    assert "What went well for you this sprint?" in texts(at)
    at.text_area[0].input(LONG)
    _button(at, "Send").click().run()
    assert not at.exception
    assert "What hurt during the sprint?" in texts(at) and LONG in texts(at)
    messages = prepo.list_messages(db, p.id)
    assert [(m.role, m.source) for m in messages] == [("facilitator", "model"), ("participant", "offline"),
                                                      ("facilitator", "model")]
    assert all(r["body"]["stream"] for r in model_env.requests(CHAT))
    assert phrase("en", "offline_fallback") not in texts(at)


def test_chat_page_continues_offline_when_the_model_fails(db, creator, model_env):
    s = launched_session(db, creator)
    p = conversation.join(db, s.id, ask_first=False)
    model_env.script({"content": "Welcome! What went well?"}, {"status": 500}, {"status": 500})
    at = app("pages/chat.py", query={"p": p.token}).run()
    at.text_area[0].input(LONG)
    _button(at, "Send").click().run()
    assert not at.exception
    last = prepo.list_messages(db, p.id)[-1]
    assert last.role == "facilitator" and last.source == "offline" and "HTTP" not in last.content
    shown = texts(at)
    assert last.content.split("\n")[0] in shown and phrase("en", "offline_fallback") in shown
    assert "internal error" not in shown and "500" not in shown


# ------------------------------------------------------------------------------------------------ admin


def test_admin_page_is_for_admins_only(db, creator, other_user, model_env):
    at = app("pages/admin.py", user=other_user).run()
    assert not at.exception and "for site administrators" in texts(at)
    assert "Model calls" not in texts(at) and not [b for b in at.button if b.label == "Test connection"]
    anonymous = app("pages/admin.py").run()
    assert "Please sign in" in texts(anonymous) and "Admin settings" not in texts(anonymous)


def test_admin_page_shows_mode_endpoint_never_the_key_and_tests_the_connection(db, creator, model_env):
    s = launched_session(db, creator)
    token = conversation.join(db, s.id, ask_first=False).token
    from core import modes

    conversation.respond(db, token, modes.facilitator(db))
    at = app("pages/admin.py", user=creator).run()
    assert not at.exception
    host = model_env.base_url.split("//")[1].split("/")[0]
    shown = _all_text(at)
    assert "Model mode" in shown and host in shown and "set (hidden)" in shown
    assert API_KEY not in shown and "SECRET" not in shown
    frames = [d.value for d in at.dataframe]
    endpoint = frames.pop(0)         # the endpoint's gate now: nothing running, breaker closed
    assert list(endpoint["running"]) == [0] and list(endpoint["breaker"]) == ["closed"]
    assert "facilitation.turn" in set(frames[0]["purpose"]) and s.id in set(frames[1]["session"])
    _button(at, "Test connection").click().run()
    assert any("Connected to" in m.value for m in at.success)
    assert API_KEY not in _all_text(at)
    assert "ping" in set(crepo.calls_frame(db)["purpose"])


def test_admin_page_offline(db, creator):
    at = app("pages/admin.py", user=creator).run()
    assert not at.exception and "Offline mode" in texts(at) and "No model calls yet" in texts(at)
    assert _button(at, "Test connection").disabled


def test_menu_shows_admin_link_to_admins_only(db, creator, other_user):
    links = [link.proto.label for link in app(None, user=creator).run().get("page_link")]
    assert "Admin" in links
    links = [link.proto.label for link in app(None, user=other_user).run().get("page_link")]
    assert "Admin" not in links


# ----------------------------------------------------------------------------------------------- design


def _design(db, creator, session_id, tab="Facilitation guide"):
    """The design page with `tab` open (only the open tab is drawn)."""
    return app("pages/design.py", user=creator, query={"s": session_id, "tab": tab}).run()


def test_design_generate_refine_and_system_prompt(db, creator, model_env):
    s = sessions.create_session(db, creator, BRIEF)
    items = BRIEF.critical_items
    model_env.script(
        {"content": guide_json([{"question": "What went well, in your words?", "critical_item": items[0]}])},
        {"content": guide_json([{"question": "Warmly: what went well?", "critical_item": items[0]}], "Warm.")},
    )
    at = _design(db, creator, s.id)
    assert not at.exception
    _button(at, "Generate with the model").click().run()
    assert not at.exception and "The model wrote version 2" in texts(at)
    refine = next(t for t in at.text_area if t.label == "Refine in plain words")
    refine.input("make it warmer")
    _button(at, "Refine").click().run()
    assert "Refined as version 3" in texts(at)
    versions = srepo.list_guide_versions(db, s.id)
    assert [(v.version, v.source) for v in versions][:2] == [(3, "model"), (2, "model")]
    prompt = "\n".join(t.value for t in at.text)
    assert "Warmly: what went well?" in prompt and "You are the facilitator" in prompt
    assert "Warm." in texts(at)


def test_design_shows_model_errors_plainly(db, creator, model_env):
    s = sessions.create_session(db, creator, BRIEF)
    model_env.script(*[{"status": 500}] * 6)          # the server keeps failing, whatever is retried
    at = _design(db, creator, s.id)
    _button(at, "Generate with the model").click().run()
    assert not at.exception
    assert any("internal error" in e.value for e in at.error)
    assert len(srepo.list_guide_versions(db, s.id)) == 1
    # the outcome stays through later reruns, beside what the guide in use is, until the next action
    at.run()
    shown = texts(at)     # the error is shown escaped (it may quote the server's answer): read back plain
    assert at.error and "could not write a guide" in shown and "not changed (version 1)" in shown
    assert "Version 1, rule-based" in texts(at) or "Version 1, edited" in texts(at)
    _button(at, "Regenerate from the brief").click().run()
    assert not any("could not write" in e.value for e in at.error)
    assert "Version 2, rule-based (generated from the brief)" in texts(at)


def test_design_offline_explains_and_shows_the_prompt(db, creator):
    s = sessions.create_session(db, creator, BRIEF)
    at = _design(db, creator, s.id)
    assert "Offline mode: no model is configured" in texts(at)
    assert not [b for b in at.button if b.label == "Generate with the model"]
    assert "You are the facilitator" in "\n".join(t.value for t in at.text)


@pytest.mark.parametrize("mode", ["offline", "model"])
def test_design_runs_simulated_participants(db, creator, mode, request):
    if mode == "model":
        request.getfixturevalue("model_env")
    s = launched_session(db, creator)
    at = _design(db, creator, s.id, "Share & status")
    at.number_input(key="sim_n").set_value(2)
    _button(at, "Run simulated participants").click().run()
    assert not at.exception
    assert any("2 simulated participants finished" in m.value for m in at.success)
    people = prepo.list_participants(db, s.id)
    assert len(people) == 2 and all(p.simulated for p in people)
    sources = {m.source for p in people for m in prepo.list_messages(db, p.id) if m.role == "facilitator"}
    assert sources == {mode}


def test_form_share_flag_is_saved_from_the_design_page(db, creator):
    from core.forms import FormField

    s = sessions.create_session(db, creator, BRIEF)
    sessions.save_form(db, creator, s.id, [FormField("email", "Email", "email"),
                                            FormField("role", "Role", "short_text", share_with_model=True)])
    at = _design(db, creator, s.id, "Pre-session form")
    _button(at, "Save form").click().run()
    assert not at.exception
    assert [(f.key, f.share_with_model) for f in srepo.get_form(db, s.id)] == [("email", False), ("role", True)]


def test_new_session_in_model_mode_gets_a_model_written_guide(db, creator, model_env):
    items = BRIEF.critical_items
    model_env.script({"content": guide_json([{"question": "Tell me what went well?", "critical_item": items[0]}])})
    at = app("pages/new.py", user=creator).run()
    at.text_input[0].input(BRIEF.name)
    at.text_area[0].input(BRIEF.objective)
    at.text_area[1].input("\n".join(items))
    at.button[0].click().run()
    assert not at.exception
    (row,) = sessions.list_for(db, creator)
    versions = srepo.list_guide_versions(db, row["id"])
    assert [(v.version, v.source) for v in versions] == [(2, "model"), (1, "offline")]
    assert versions[0].steps[0].question == "Tell me what went well?"


def test_new_session_keeps_the_rule_based_guide_when_the_model_fails(db, creator, model_env):
    model_env.script({"status": 500}, {"status": 500}, {"status": 500}, {"status": 500})
    at = app("pages/new.py", user=creator).run()
    at.text_input[0].input(BRIEF.name)
    at.text_area[0].input(BRIEF.objective)
    at.text_area[1].input("\n".join(BRIEF.critical_items))
    at.button[0].click().run()
    assert not at.exception
    (row,) = sessions.list_for(db, creator)
    assert [v.source for v in srepo.list_guide_versions(db, row["id"])] == ["offline"]
    assert "rule-based guide" in texts(at)
