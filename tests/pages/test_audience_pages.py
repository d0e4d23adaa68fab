"""Through Home.py: the owner's quote setting for participants and public links, what a finished participant then
sees, and a viewer's results page offering no write to shared results (issue 15, points 3 and 4)."""

from __future__ import annotations

import pytest

from core import results
from core.repos import sessions as srepo
from core.sharing import set_audience_quotes, set_visibility
from tests.audience_data import ENDINGS, SAID, populate
from tests.helpers import grant, launched_session
from tests.pages.apptest import app, texts


@pytest.fixture(autouse=True)
def no_background_synthesis(monkeypatch):
    monkeypatch.setenv("HARMONICA_AUTO_SYNTHESIS", "0")


@pytest.fixture
def finished(db, creator):
    """Eight finished participants in three themes (4, 3 and 1 people); returns (session, tokens)."""
    return populate(db, creator)


def test_owner_allows_quotes_with_k_on_the_design_page(db, creator, other_user):
    s = launched_session(db, creator)
    set_visibility(db, creator, s.id, "participants")
    at = app("pages/design.py", user=creator, query={"s": s.id, "tab": "Members & privacy"}).run()
    assert not at.exception
    assert not at.checkbox(key="audience_allow").value and at.number_input(key="audience_k").value == 3
    at.checkbox(key="audience_allow").check()
    at.number_input(key="audience_k").set_value(4)
    at.button(key="FormSubmitter:audience_quotes-Save quote setting").click().run()
    assert not at.exception and "Quote setting saved." in texts(at)
    saved = srepo.get_session(db, s.id)
    assert saved.audience_quotes and saved.audience_min_people == 4

    grant(db, creator, "session", s.id, other_user, "editor")   # editors do not get the owner's setting
    at = app("pages/design.py", user=other_user, query={"s": s.id, "tab": "Members & privacy"}).run()
    assert not at.exception and "Save quote setting" not in [b.label for b in at.button]


def test_finished_participant_sees_quotes_only_when_allowed_and_only_from_themes_of_k(db, creator, finished):
    s, tokens = finished
    set_visibility(db, creator, s.id, "participants")
    at = app("pages/chat.py", query={"s": s.id, "p": tokens[0]}).run()
    assert not at.exception and "What everyone said" in texts(at)
    shown = texts(at)
    for topic in ("meetings", "alone"):                   # other participants' words: none, not even in the summary
        assert SAID[topic] not in shown
    assert not any(f"{SAID['coffee']}{ENDINGS[i]}." in shown for i in (1, 2, 3))   # only their own words
    assert f"{SAID['coffee']}." in shown                  # (their transcript)

    set_audience_quotes(db, creator, s.id, True, 3)
    at = app("pages/chat.py", query={"s": s.id, "p": tokens[0]}).run()
    shown = texts(at)
    assert SAID["meetings"] in shown                      # a theme of three people: quoted
    assert "zebulon" not in shown.lower()                 # a theme of one person: never, nor its keyphrases


def test_a_viewer_gets_no_button_that_changes_shared_results(db, creator, other_user, finished):
    s, _ = finished
    set_visibility(db, creator, s.id, "members")
    grant(db, creator, "session", s.id, other_user, "viewer")
    opened = results.open(db, creator, s.id)
    view = opened.synthesis_view()
    opened.pin_insight(opened.ask(view, "coffee machine", mode="offline"), view.run.id)
    at = app("pages/results.py", user=other_user, query={"s": s.id, "tab": "Ask the data"}).run()
    assert not at.exception
    assert at.button(key="rerun").disabled
    labels = [b.label for b in at.button]
    assert "Unpin" not in labels and "Pinned insights" in texts(at)
    at.text_input(key="ask_q").input("coffee machine")
    at.button(key="ask_go").click().run()
    assert not at.exception and "Pin as insight" not in [b.label for b in at.button]

    at = app("pages/results.py", user=creator, query={"s": s.id, "tab": "Ask the data"}).run()   # the owner has them
    assert not at.button(key="rerun").disabled and "Unpin" in [b.label for b in at.button]
