"""The v1 read endpoints over HTTP against the running app: keys, rights, errors, rate limit."""

from __future__ import annotations

import csv
import io

from tests.api.conftest import RPM


def error_of(reply) -> tuple[int, str]:
    return reply.status, reply.json["error"]["code"]


def test_no_key_a_wrong_key_and_a_revoked_key_get_401(api):
    for key in (None, "hm_live_" + "0" * 32, "not-a-key", "revoked"):
        reply = api("/me", key=key)
        assert error_of(reply) == (401, "unauthorized")
        assert reply.headers["www-authenticate"].startswith("Bearer")


def test_me_describes_the_user_and_the_key(api):
    me = api("/me").json
    assert me["email"] and me["subscription_status"] == "FREE"
    assert me["api_key"]["name"] == "tests" and api.keys["demo"].startswith(me["api_key"]["key_prefix"])
    assert api("/me", key="bob").json["email"] == "bob@example.org"


def test_sessions_are_listed_filtered_and_paged_for_their_user_only(api):
    listed = api("/sessions").json
    assert listed["pagination"] == {"total": 1, "limit": 20, "offset": 0}
    (item,) = listed["data"]
    assert item["id"] == api.demo.session_id and item["status"] == "active" and item["participant_count"] == 5
    assert api("/sessions?status=completed").json["pagination"]["total"] == 0
    assert api("/sessions?q=RETROSPECTIVE").json["pagination"]["total"] == 1
    assert api("/sessions?q=no+such+words").json["data"] == []
    assert api("/sessions?limit=1&offset=1").json == {"data": [], "pagination": {"total": 1, "limit": 1, "offset": 1}}
    assert api("/sessions", key="bob").json["pagination"]["total"] == 0
    for bad in ("status=open", "limit=0", "limit=101", "offset=-1", "limit=ten"):
        assert error_of(api(f"/sessions?{bad}")) == (422, "validation_error")


def test_a_session_is_read_by_its_owner_and_not_found_for_anyone_else(api):
    sid = api.demo.session_id
    session = api(f"/sessions/{sid}").json
    assert session["topic"].startswith("Demo") and session["join_url"].endswith(f"/chat?s={sid}")
    assert session["summary"]
    for path in ("", "/questions", "/responses", "/summary", "/session-md", "/export?format=themes-csv"):
        other = api(f"/sessions/{sid}{path}", key="bob")
        missing = api(f"/sessions/no-such-session{path}")
        assert error_of(other) == error_of(missing) == (404, "not_found")
        assert other.text == missing.text   # the same answer: no way to tell that the session exists


def test_questions_responses_summary_and_markdown(api):
    sid = api.demo.session_id
    questions = api(f"/sessions/{sid}/questions").json["data"]
    assert [q["position"] for q in questions] == list(range(1, len(questions) + 1)) and questions[0]["text"]
    people = api(f"/sessions/{sid}/responses").json["data"]
    assert len(people) == 5
    assert {m["role"] for p in people for m in p["messages"]} == {"user", "assistant"}
    assert all(m["created_at"].endswith("Z") for p in people for m in p["messages"])
    summary = api(f"/sessions/{sid}/summary").json
    assert summary["session_id"] == sid and summary["summary"] and summary["generated_at"].endswith("Z")
    md = api(f"/sessions/{sid}/session-md")
    assert md.status == 200 and md.headers["content-type"].startswith("text/markdown") and md.text.startswith("# ")


def test_exports_come_in_every_format_and_bad_formats_are_named(api):
    sid = api.demo.session_id
    themes = api(f"/sessions/{sid}/export?format=themes-csv")
    assert themes.status == 200 and themes.headers["content-type"].startswith("text/csv")
    assert list(csv.DictReader(io.StringIO(themes.text)))
    bad = api(f"/sessions/{sid}/export?format=pdf")
    assert error_of(bad) == (422, "validation_error") and "themes-csv" in bad.json["error"]["message"]


def test_the_rate_limit_answers_429_with_retry_after_per_key(api):
    replies = [api("/me", key="limited") for _ in range(RPM + 1)]
    assert [r.status for r in replies[:RPM]] == [200] * RPM
    assert error_of(replies[-1]) == (429, "rate_limited")
    assert 1 <= int(replies[-1].headers["retry-after"]) <= 60
    assert api("/me").status == 200   # another key is not limited by this one
