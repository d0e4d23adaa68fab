"""In a real browser: a conversation run through the REST API to its end shows on the Results page like any
other participant's."""

from __future__ import annotations

import pytest

from tests.api.conftest import request
from tests.browser import require_browser
from tests.e2e import harness

pytestmark = pytest.mark.e2e

ANSWER = "Through the API: the release train slipped twice because reviews queued for days."


def make_key(path, demo) -> None:
    from core import apikeys
    from core.db import Database
    from core.repos import users as urepo

    db = Database(path)
    make_key.key, _ = apikeys.create_key(db, urepo.get_by_username(db, demo.username), "e2e")
    db.close()


@pytest.fixture
def api_server(tmp_path):
    require_browser()
    with harness.demo_server(tmp_path, participants=2, prepare=make_key) as served:
        yield served


def test_a_chat_run_through_the_api_shows_on_the_results_page(api_server, new_page, shown_exceptions):
    from playwright.sync_api import expect

    server, demo = api_server
    sid = demo.session_id

    def api(path, body=None):
        reply = request(server.url + "/api/v1", path, make_key.key, "GET" if body is None else "POST", body)
        assert reply.status == 200, reply.text
        return reply.json

    answers = [{"question_id": q["id"], "answer": q["options"][0] if q["options"] else "7"}
               for q in api(f"/sessions/{sid}/questions")["data"]]
    turn = api(f"/sessions/{sid}/chat/questions", {"participant_id": "agent-1", "answers": answers})
    for _ in range(30):
        if turn["message"]["is_final"]:
            break
        turn = api(f"/sessions/{sid}/chat", {"participant_id": "agent-1", "content": ANSWER,
                                             "seen_seq": turn["seq"]})
    assert turn["message"]["is_final"]

    page = harness.as_creator(new_page(), server, demo, f"/results?s={sid}&tab=Participants")
    people = page.get_by_role("tabpanel", name="Participants")
    people.get_by_role("combobox", name="Transcript of").click()
    page.get_by_role("option", name="Participant 3 (completed)").click()
    expect(people.get_by_text(ANSWER).first).to_be_visible()
    assert harness.unexpected(shown_exceptions) == [], shown_exceptions
