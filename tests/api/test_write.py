"""The v1 write endpoints over HTTP against the running app: sessions, answers and a whole chat."""

from __future__ import annotations

import json

from tests.api.conftest import request
from tests.api.test_read import error_of
from tests.e2e import harness

BRIEF = {"topic": "Office move", "goal": "Learn what people need from the new office before we sign the lease.",
         "critical": "commute\nquiet space"}


def new_session(api, **extra) -> dict:
    reply = api("/sessions", method="POST", body={**BRIEF, **extra})
    assert reply.status == 201, reply.text
    return reply.json


def test_a_created_session_is_open_and_listed(api):
    session = new_session(api, questions=[{"text": "Your team", "type": "Options", "options": ["A", "B"],
                                           "required": True}])
    assert session["status"] == "active" and session["lifecycle"] == "open"
    assert session["join_url"].endswith(f"/chat?s={session['id']}")
    assert session["critical"] == "commute\nquiet space"
    assert any(s["id"] == session["id"] for s in api("/sessions?q=lease").json["data"])
    (question,) = api(f"/sessions/{session['id']}/questions").json["data"]
    assert question == {"id": "q1", "text": "Your team", "position": 1, "type": "Options", "required": True,
                        "options": ["A", "B"]}
    assert api(f"/sessions/{session['id']}/guide").json["data"][0]["question"]
    assert error_of(api(f"/sessions/{session['id']}", key="bob")) == (404, "not_found")


def test_bad_bodies_get_422_naming_the_field(api):
    cases = {
        "topic": {"goal": BRIEF["goal"]},
        "goal": {**BRIEF, "goal": "x" * 20_000},
        "topic: Input should be a valid string": {**BRIEF, "topic": 5},
        "questions": {**BRIEF, "questions": "two"},
        "colour": {**BRIEF, "colour": "blue"},
        "template": {**BRIEF, "template_id": "no-such-template"},
        "prompt: a custom facilitation prompt is not supported": {**BRIEF, "prompt": "Be a pirate."},
    }
    for expected, body in cases.items():
        reply = api("/sessions", method="POST", body=body)
        assert error_of(reply) == (422, "validation_error"), (expected, reply.text)
        assert expected in reply.json["error"]["message"], (expected, reply.text)
    for raw, expected in ((b"{not json", "not valid JSON"), (b"[1, 2]", "JSON object")):
        reply = api("/sessions", method="POST", raw=raw)
        assert error_of(reply) == (422, "validation_error") and expected in reply.json["error"]["message"]
    assert error_of(api("/sessions", key=None, method="POST", body=BRIEF)) == (401, "unauthorized")


def test_changes_close_and_reopen(api):
    sid = new_session(api)["id"]
    changed = api(f"/sessions/{sid}", method="PATCH", body={"topic": "Office move, round 2"}).json
    assert changed["topic"] == "Office move, round 2" and changed["goal"] == BRIEF["goal"]
    assert error_of(api(f"/sessions/{sid}", method="PATCH", body={"goal": "short"})) == (422, "validation_error")
    assert error_of(api(f"/sessions/{sid}", key="bob", method="PATCH", body={"topic": "mine now"})) == \
        (404, "not_found")
    assert api(f"/sessions/{sid}/close", method="POST").json["status"] == "completed"
    closed = api(f"/sessions/{sid}/chat", method="POST", body={"participant_id": "p1", "content": "hello"})
    assert error_of(closed) == (400, "validation_error") and "not active" in closed.json["error"]["message"]
    assert api(f"/sessions/{sid}/reopen", method="POST").json["status"] == "active"


def test_a_client_runs_a_participant_through_the_chat_to_the_end(api):
    sid = new_session(api, questions=[{"text": "Your team", "type": "Options", "options": ["Sales", "Ops"],
                                       "required": True}])["id"]
    missing = api(f"/sessions/{sid}/chat", method="POST", body={"participant_id": "ana", "content": "hi"})
    assert error_of(missing) == (422, "validation_error") and "q1" in missing.json["error"]["message"]
    start = api(f"/sessions/{sid}/chat/questions", method="POST",
                body={"participant_id": "ana", "answers": [{"question_id": "q1", "answer": "Ops"}]}).json
    assert start["message"]["content"] and not start["message"]["is_final"]
    turn, seq = start, start["seq"]
    for i in range(30):
        if turn["message"]["is_final"]:
            break
        reply = api(f"/sessions/{sid}/chat", method="POST",
                    body={"participant_id": "ana", "content": f"Answer {i}: the commute is long and the open "
                          "plan floor is loud, so a few quiet rooms would help a lot.", "seen_seq": seq})
        assert reply.status == 200, reply.text
        turn, seq = reply.json, reply.json["seq"]
        # the same request again (a client retrying after a lost reply) is refused, not stored twice
        if not turn["message"]["is_final"]:
            again = api(f"/sessions/{sid}/chat", method="POST",
                        body={"participant_id": "ana", "content": "again", "seen_seq": seq - 2})
            assert again.status == 409, again.text
    assert turn["message"]["is_final"] and turn["thread_id"] == start["thread_id"]
    (person,) = api(f"/sessions/{sid}/responses").json["data"]
    answers = [m["content"] for m in person["messages"] if m["role"] == "user"]
    assert answers == [f"Answer {n}: the commute is long and the open plan floor is loud, so a few quiet rooms "
                       "would help a lot." for n in range(len(answers))]
    assert person["status"] == "finished"


def test_a_response_is_submitted_as_the_key_s_user(api):
    sid = new_session(api)["id"]
    created = api(f"/sessions/{sid}/responses", method="POST", body={"content": "More bike parking, please."})
    assert created.status == 201 and created.json["content"] == "More bike parking, please."
    assert error_of(api(f"/sessions/{sid}/responses", method="POST", body={"content": ""})) == \
        (422, "validation_error")
    people = api(f"/sessions/{sid}/responses").json["data"]
    assert [m["content"] for p in people for m in p["messages"] if m["role"] == "user"] == \
        ["More bike parking, please."]
    assert error_of(api(f"/sessions/{sid}/responses", key="bob", method="POST", body={"content": "x"})) == \
        (404, "not_found")


def test_every_write_is_in_the_audit_log_with_its_key(tmp_path):
    from core import apikeys
    from core.accounts import register
    from core.db import Database
    from core.repos.audit import audit_frame

    db = Database(tmp_path / "h.duckdb")
    carol = register(db, "carol", "carol@example.org", "Carol", "correct horse", "correct horse")
    key, record = apikeys.create_key(db, carol, "audited")
    db.close()
    server = harness.start_server(tmp_path, {"HARMONICA_AUTO_SYNTHESIS": "0"})
    try:
        def api(path, method="GET", body=None):
            return request(server.url + "/api/v1", path, key, method, body)

        sid = api("/sessions", "POST", BRIEF).json["id"]
        api(f"/sessions/{sid}/close", "POST")
        api(f"/sessions/{sid}")
    finally:
        server.stop()
    db = Database(tmp_path / "h.duckdb")
    log = audit_frame(db)
    db.close()
    writes = log[log["action"].str.startswith("api.")]
    assert sorted(writes["action"]) == ["api.close_session", "api.create_session"]   # reads are not writes
    assert set(writes["resource_id"]) == {sid} and set(writes["actor"]) == {"carol"}
    assert all(json.loads(d)["key"] == record.key_prefix for d in writes["detail"])
