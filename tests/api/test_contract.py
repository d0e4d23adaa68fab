"""Our answers against the served OpenAPI description, whose shared schemas carry the hosted Harmonica's v1
contract (field names, types, enums, required fields): a v1 client reads them unchanged."""

from __future__ import annotations

import re

import pytest
from jsonschema import Draft202012Validator

from core.api import routes
from tests.api.conftest import request

V1_REQUIRED = {   # the hosted v1's required fields, per its published OpenAPI file
    "Session": {"id", "topic", "goal", "status", "participant_count", "created_at", "updated_at"},
    "SessionListItem": {"id", "topic", "goal", "status", "participant_count", "created_at", "updated_at"},
    "Question": {"id", "text", "position"},
    "Participant": {"participant_name", "messages"},
    "Message": {"role", "content", "created_at"},
    "ResponseCreated": {"id", "session_id", "content", "created_at"},
    "UserInfo": {"id", "email", "subscription_status", "api_key"},
    "Pagination": {"total", "limit", "offset"},
    "Error": {"error"},
}


@pytest.fixture(scope="module")
def doc(api):
    reply = request(api.server.url, "/api/v1/openapi.json")   # no key needed
    assert reply.status == 200
    return reply.json


def check(doc: dict, path: str, method: str, status: str, answer) -> None:
    schema = doc["paths"][path][method]["responses"][status]["content"]["application/json"]["schema"]
    Draft202012Validator({**schema, "components": doc["components"]}).validate(answer)


def test_the_shared_schemas_keep_the_v1_required_fields(doc):
    for name, fields in V1_REQUIRED.items():
        assert fields <= set(doc["components"]["schemas"][name]["required"]), name
    assert doc["components"]["schemas"]["Session"]["properties"]["status"]["enum"] == ["active", "completed"]


def test_every_served_route_is_described(doc):
    served = {re.sub(r"^/api/v1", "", r.path) for r in routes.api_routes()} - {"/openapi.json"}
    assert served == set(doc["paths"])


def test_answers_match_the_description(api, doc):
    sid = api.demo.session_id
    check(doc, "/me", "get", "200", api("/me").json)
    check(doc, "/sessions", "get", "200", api("/sessions").json)
    check(doc, "/sessions/{id}", "get", "200", api(f"/sessions/{sid}").json)
    check(doc, "/sessions/{id}/questions", "get", "200", api(f"/sessions/{sid}/questions").json)
    check(doc, "/sessions/{id}/responses", "get", "200", api(f"/sessions/{sid}/responses").json)
    check(doc, "/sessions/{id}/summary", "get", "200", api(f"/sessions/{sid}/summary").json)
    check(doc, "/sessions/{id}/themes", "get", "200", api(f"/sessions/{sid}/themes").json)
    check(doc, "/sessions/{id}/guide", "get", "200", api(f"/sessions/{sid}/guide").json)
    check(doc, "/projects", "get", "200", api("/projects").json)
    created = api("/sessions", method="POST", body={"topic": "Contract check", "goal": "See that answers fit."})
    check(doc, "/sessions", "post", "201", created.json)
    new = created.json["id"]
    check(doc, "/sessions/{id}/chat", "post", "200",
          api(f"/sessions/{new}/chat", method="POST", body={"participant_id": "c1", "content": "Fine."}).json)
    check(doc, "/sessions/{id}/responses", "post", "201",
          api(f"/sessions/{new}/responses", method="POST", body={"content": "Fine too."}).json)
    for path, key in (("/sessions/nope", "demo"), ("/me", None), ("/sessions?limit=0", "demo")):
        reply = api(path, key=key)
        check(doc, "/sessions/{id}" if path.startswith("/sessions/") else "/me" if path == "/me" else "/sessions",
              "get", str(reply.status), reply.json)
