import pytest

from core.repos import sessions as srepo
from core.sessions import create_session, list_for, set_status
from tests.helpers import BRIEF
from tests.pages.apptest import app, open_tab, texts

PROTECTED = ["pages/new.py", "pages/design.py", "pages/results.py"]


@pytest.mark.parametrize("page", PROTECTED)
def test_protected_pages_ask_anonymous_visitors_to_sign_in(db, creator, page):
    s = create_session(db, creator, BRIEF)
    at = app(page, query={"s": s.id}).run()
    assert not at.exception
    assert "Please sign in" in texts(at)
    assert "Team retro" not in texts(at) and "Learn what to change" not in texts(at)


@pytest.mark.parametrize("page", ["pages/design.py", "pages/results.py"])
def test_other_users_are_refused_without_leaking(db, creator, other_user, page):
    s = create_session(db, creator, BRIEF)
    at = app(page, user=other_user, query={"s": s.id}).run()
    assert "do not have access" in texts(at)
    assert "Team retro" not in texts(at)


def test_new_session_from_blank_shows_inline_errors_then_creates(db, creator):
    at = app("pages/new.py", user=creator).run()
    assert not at.exception
    at.text_input[0].input("ab")
    at.button[0].click().run()
    errors = " ".join(e.value for e in at.error)
    assert "3 to 120 characters" in errors and "at least 10 characters" in errors and "at least one" in errors
    assert list_for(db, creator) == []
    at.text_input[0].input("Budget round")
    at.text_area[0].input("Decide where next year's budget goes")
    at.text_area[1].input("Priorities\nRisks")
    at.button[0].click().run()
    sessions = list_for(db, creator)
    assert [s["name"] for s in sessions] == ["Budget round"]


def test_new_session_from_template_prefills_the_brief(db, creator):
    at = app("pages/new.py", user=creator).run()
    at.selectbox[0].select("retrospective").run()
    assert at.text_input[0].value == "Retrospective"
    at.button[0].click().run()
    s = srepo.get_session(db, list_for(db, creator)[0]["id"])
    assert s.template_key == "retrospective" and srepo.get_form(db, s.id)
    guide = open_tab(app("pages/design.py", user=creator, query={"s": s.id}).run(), "Facilitation guide")
    assert "Version 1, from the template, " in texts(guide) and "(from template)" not in texts(guide)


def test_design_brief_errors_and_save(db, creator):
    s = create_session(db, creator, BRIEF)
    at = app("pages/design.py", user=creator, query={"s": s.id}).run()
    assert not at.exception
    at.text_area[0].input("short")
    button(at, "Save brief").click().run()
    assert "at least 10 characters" in " ".join(e.value for e in at.error)
    assert srepo.get_session(db, s.id).objective == BRIEF.objective
    at.text_area[0].input("A better, longer objective")
    button(at, "Save brief").click().run()
    assert srepo.get_session(db, s.id).objective == "A better, longer objective"


def test_design_guide_regenerate_and_restore_make_versions(db, creator):
    s = create_session(db, creator, BRIEF)
    at = design(creator, s, "Facilitation guide")
    next(b for b in at.button if b.label == "Regenerate from the brief").click().run()
    assert srepo.get_session(db, s.id).guide_version == 2
    assert "Generated version 2" in texts(at)
    next(b for b in at.button if b.label == "Restore this version").click().run()
    assert srepo.get_session(db, s.id).guide_version == 3


def test_design_launch_shows_absolute_link_and_qr(db, creator):
    s = create_session(db, creator, BRIEF)
    at = design(creator, s, "Share & status")
    next(b for b in at.button if b.label == "Launch").click().run()
    assert srepo.get_session(db, s.id).status == "launched"
    codes = [c.value for c in at.code]
    assert any(c.startswith("http") and c.endswith(f"/chat?s={s.id}") for c in codes)
    assert at.get("imgs") or at.get("image")


def test_design_settings_rejects_nothing_valid_and_saves(db, creator):
    s = create_session(db, creator, BRIEF)
    at = design(creator, s, "Settings")
    next(n for n in at.number_input if n.label == "Maximum participant turns").set_value(12)
    next(t for t in at.toggle if t.label.startswith("Anonymous participation")).set_value(False)
    button(at, "Save settings").click().run()
    row = srepo.get_session(db, s.id)
    assert (row.max_turns, row.anonymous) == (12, False)


def test_an_out_of_range_setting_is_explained_and_nothing_claims_a_save(db, creator):
    """The browser used to refuse 500 silently (the input's own bounds) and Save stored the old value as "saved"."""
    s = create_session(db, creator, BRIEF)
    at = design(creator, s, "Settings")
    button(at, "Save settings").click().run()
    assert "Settings saved." in [m.value for m in at.success]
    next(n for n in at.number_input if n.label == "Maximum participant turns").set_value(500)
    button(at, "Save settings").click().run()
    assert "Maximum participant turns must be between 3 and 200." in [e.value for e in at.error]
    assert not at.success and srepo.get_session(db, s.id).max_turns != 500
    assert next(n for n in at.number_input if n.label == "Maximum participant turns").value == 500   # kept to fix


def test_design_delete_needs_the_name(db, creator):
    s = create_session(db, creator, BRIEF)
    at = design(creator, s, "Share & status")
    delete = next(b for b in at.button if b.label == "Delete permanently")
    assert delete.disabled
    next(t for t in at.text_input if t.label == "Type the session name to confirm").input("Team retro").run()
    next(b for b in at.button if b.label == "Delete permanently").click().run()
    assert srepo.get_session(db, s.id) is None


def test_design_close_and_reopen(db, creator):
    s = create_session(db, creator, BRIEF)
    set_status(db, creator, s.id, "launched")
    at = design(creator, s, "Share & status")
    next(b for b in at.button if b.label == "Close").click().run()
    assert srepo.get_session(db, s.id).status == "launched"         # not before it is confirmed
    at.button(key="close_cancelled").click().run()
    assert srepo.get_session(db, s.id).status == "launched"
    next(b for b in at.button if b.label == "Close").click().run()
    at.button(key="close_confirmed").click().run()
    assert srepo.get_session(db, s.id).status == "closed"
    next(b for b in at.button if b.label == "Reopen").click().run()
    assert srepo.get_session(db, s.id).status == "launched"


def design(user, session, tab: str):
    """The design page of `session` with `tab` open (only the open tab is drawn)."""
    return open_tab(app("pages/design.py", user=user, query={"s": session.id}).run(), tab)


def button(at, label: str, n: int = 0, editor: str = ""):
    """The n-th button with that label (of the guide's or the form's cards when `editor` says which)."""
    return [b for b in at.button if b.label == label and (b.key or "").startswith(editor)][n]


def test_guide_cards_add_move_delete_and_save_a_new_version(db, creator):
    s = create_session(db, creator, BRIEF)
    before = srepo.get_guide_version(db, s.id, 1).steps
    at = design(creator, s, "Facilitation guide")
    questions = [t for t in at.text_area if t.label == "Question"]
    assert [q.value for q in questions] == [step.question for step in before]
    assert button(at, "Move up").disabled and button(at, "Move down", len(before) - 1).disabled
    button(at, "Add a question").click().run()
    [t for t in at.text_area if t.label == "Question"][-1].input("What would you change first?").run()
    button(at, "Move up", len(before)).click().run()          # the new question goes one up
    button(at, "Delete", 0).click().run()                       # the first question goes
    assert not at.exception
    button(at, "Save as new version").click().run()
    row = srepo.get_session(db, s.id)
    assert row.guide_version == 2
    saved = [step.question for step in srepo.get_guide_version(db, s.id, 2).steps]
    expected = [step.question for step in before[1:]]
    expected.insert(len(expected) - 1, "What would you change first?")
    assert saved == expected
    # the page shows the saved version's cards
    assert [t.value for t in at.text_area if t.label == "Question"] == saved


def test_guide_cards_refuse_an_empty_question_and_keep_the_draft(db, creator):
    s = create_session(db, creator, BRIEF)
    at = design(creator, s, "Facilitation guide")
    button(at, "Add a question").click().run()
    [t for t in at.text_input if t.label.startswith("Follow-up")][-1].input("Why?").run()
    button(at, "Save as new version").click().run()
    assert srepo.get_session(db, s.id).guide_version == 1
    assert at.error and "question" in " ".join(e.value for e in at.error).lower()
    assert [t for t in at.text_input if t.label.startswith("Follow-up")][-1].value == "Why?"


def test_form_cards_add_a_choice_field_reorder_delete_and_save(db, creator):
    s = create_session(db, creator, BRIEF)
    at = design(creator, s, "Pre-session form")
    start = len([t for t in at.text_input if t.label == "Label"])
    button(at, "Add a field").click().run()
    [t for t in at.text_input if t.label == "Label"][-1].input("Which team are you in?").run()
    [b for b in at.selectbox if b.label == "Type"][-1].set_value("single_choice").run()
    # the type shows what it needs, in plain words
    assert [b for b in at.selectbox if b.label == "Type"][-1].format_func("single_choice") == "Single choice"
    [t for t in at.text_area if t.label == "Options (one per line)"][-1].input("Platform\nMobile\n\nData").run()
    [c for c in at.checkbox if c.label == "Required"][-1].check().run()
    button(at, "Add a field").click().run()
    [t for t in at.text_input if t.label == "Label"][-1].input("Years here").run()
    [b for b in at.selectbox if b.label == "Type"][-1].set_value("number").run()
    [n for n in at.number_input if n.label.startswith("Smallest")][-1].set_value(0).run()
    button(at, "Move up", start + 1, "form_cards").click().run()   # "Years here" before the team
    if start:
        button(at, "Delete", 0, "form_cards").click().run()
    button(at, "Save form").click().run()
    assert not at.exception and "Form saved." in texts(at)
    fields = srepo.get_form(db, s.id)[-2:]
    assert [f.label for f in fields] == ["Years here", "Which team are you in?"]
    assert (fields[0].type, fields[0].min, fields[0].max) == ("number", 0.0, None)
    assert (fields[1].type, fields[1].options, fields[1].required) == ("single_choice", ["Platform", "Mobile", "Data"],
                                                                       True)
    assert len(srepo.get_form(db, s.id)) == start + 2 - (1 if start else 0)


def test_a_saved_banner_never_stays_beside_a_new_error(db, creator):
    s = create_session(db, creator, BRIEF)
    at = design(creator, s, "Settings")
    button(at, "Save settings").click().run()
    assert "Settings saved." in [m.value for m in at.success]
    open_tab(at, "Brief")
    at.text_area[0].input("short")
    button(at, "Save brief").click().run()
    assert "at least 10 characters" in " ".join(e.value for e in at.error)
    assert not at.success


def test_unsaved_brief_and_settings_survive_tab_switches_until_saved_or_discarded(db, creator):
    s = create_session(db, creator, BRIEF)
    at = app("pages/design.py", user=creator, query={"s": s.id}).run()
    at.text_area[0].input("An objective typed and not saved yet").run()
    assert "Unsaved changes" in texts(at)
    open_tab(at, "Settings")                       # the brief is not drawn now
    assert not [t for t in at.text_area if t.label == "Objective"]
    next(n for n in at.number_input if n.label == "Maximum participant turns").set_value(9).run()
    open_tab(at, "Brief")
    assert at.text_area[0].value == "An objective typed and not saved yet"
    assert srepo.get_session(db, s.id).objective == BRIEF.objective     # nothing saved by switching
    button(at, "Discard changes").click().run()
    assert at.text_area[0].value == BRIEF.objective and "Unsaved changes" not in texts(at)
    open_tab(at, "Settings")
    assert next(n for n in at.number_input if n.label == "Maximum participant turns").value == 9
    button(at, "Save settings").click().run()
    assert srepo.get_session(db, s.id).max_turns == 9 and "Unsaved changes" not in texts(at)


def test_typing_sent_with_a_tab_switch_reaches_the_draft(db, creator):
    s = create_session(db, creator, BRIEF)
    at = design(creator, s, "Facilitation guide")
    [t for t in at.text_area if t.label == "Question"][0].input("Typed, then another tab clicked at once")
    open_tab(at, "Brief")                          # one run carries both the typing and the switch
    open_tab(at, "Facilitation guide")
    assert [t for t in at.text_area if t.label == "Question"][0].value == "Typed, then another tab clicked at once"
    assert "Unsaved changes" in texts(at)
