"""The OpenAPI 3.1 description of what /api/v1 serves (GET /api/v1/openapi.json, no key needed).

The schemas shared with the hosted Harmonica's v1 (Session, SessionListItem, Question, Participant, Message,
ResponseCreated, UserInfo, Pagination, Error) keep its field names, types, enums and required fields, so the
contract test (tests/api/test_contract.py) checks our answers against what its clients expect. Our additions are
extra properties (v1 allows them) and endpoints of their own.
"""

from __future__ import annotations

from typing import Any

from core.formats import FORMATS

VERSION = "1.0.0"


def _obj(required: list[str], /, **props: Any) -> dict:
    return {"type": "object", "properties": props, "required": required}


def _s(fmt: str | None = None, nullable: bool = False, enum: list[str] | None = None) -> dict:
    schema: dict[str, Any] = {"type": ["string", "null"] if nullable else "string"}
    if fmt:
        schema["format"] = fmt
    if enum:
        schema["enum"] = enum + ([None] if nullable else [])
    return schema


INT = {"type": "integer"}
BOOL = {"type": "boolean"}


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _list(item: dict) -> dict:
    return {"type": "array", "items": item}


SCHEMAS: dict[str, dict] = {
    "SessionListItem": _obj(["id", "topic", "goal", "status", "participant_count", "created_at", "updated_at"],
                            id=_s(), topic=_s(), goal=_s(), status=_s(enum=["active", "completed"]),
                            lifecycle=_s(enum=["draft", "open", "closed"]), participant_count=INT,
                            created_at=_s("date-time"), updated_at=_s("date-time")),
    "Session": _obj(["id", "topic", "goal", "status", "participant_count", "created_at", "updated_at"],
                    id=_s(), topic=_s(), goal=_s(), critical=_s(nullable=True), context=_s(nullable=True),
                    status=_s(enum=["active", "completed"]), lifecycle=_s(enum=["draft", "open", "closed"]),
                    summary=_s(nullable=True), participant_count=INT, created_at=_s("date-time"),
                    updated_at=_s("date-time"), join_url=_s(nullable=True), results_url=_s()),
    "Question": _obj(["id", "text", "position"], id=_s(), text=_s(), position=INT,
                     type=_s(enum=["Short field", "Email", "Options", "long_text", "number", "multiple_choice",
                                   "consent"]), required=BOOL, options=_list(_s())),
    "Message": _obj(["role", "content", "created_at"], role=_s(enum=["user", "assistant"]), content=_s(),
                    created_at=_s("date-time")),
    "Participant": _obj(["participant_name", "messages"], participant_name=_s(nullable=True),
                        participant_id=_s(), status=_s(), messages=_list(_ref("Message"))),
    "ResponseCreated": _obj(["id", "session_id", "content", "created_at"], id=_s(), session_id=_s(),
                            content=_s(), created_at=_s("date-time")),
    "UserInfo": _obj(["id", "email", "subscription_status", "api_key"], id=_s(), email=_s(),
                     name=_s(nullable=True), username=_s(), subscription_status=_s(enum=["FREE", "PRO", "ENTERPRISE"]),
                     api_key=_obj(["key_prefix", "created_at"], name=_s(nullable=True), key_prefix=_s(),
                                  created_at=_s("date-time"), last_used_at=_s("date-time", nullable=True))),
    "Pagination": _obj(["total", "limit", "offset"], total=INT, limit=INT, offset=INT),
    "Error": _obj(["error"], error=_obj(["code", "message"], message=_s(), code=_s(enum=[
        "unauthorized", "forbidden", "not_found", "validation_error", "rate_limited", "internal_error"]))),
    "Summary": _obj(["session_id", "summary"], session_id=_s(), summary=_s(nullable=True),
                    generated_at=_s("date-time", nullable=True)),
    "ChatReply": _obj(["message", "thread_id"], thread_id=_s(), seq=INT,
                      message=_obj(["role", "content", "is_final"], role=_s(enum=["assistant"]), content=_s(),
                                   is_final=BOOL)),
    "Themes": _obj(["session_id", "run", "data"], session_id=_s(), run={"type": "object"}, data=_list(_obj(
        ["id", "position", "label", "participants", "mentions", "share", "quotes"], id=_s(), position=INT,
        label=_s(), description=_s(), participants=INT, mentions=INT, share={"type": "number"},
        steadiness=_s(), quotes=_list(_obj(["ref", "participant", "text"], ref=_s(), participant=_s(),
                                           text=_s()))))),
    "Guide": _obj(["data"], version={"type": ["integer", "null"]}, data=_list(_obj(
        ["position", "question"], position=INT, question=_s(), probe=_s(), critical_item=_s(nullable=True)))),
    "Projects": _obj(["data"], data=_list(_obj(["id", "title", "role", "created_at"], id=_s(), title=_s(),
                                               description=_s(nullable=True), role=_s(),
                                               created_at=_s("date-time")))),
}

QUESTION_IN = _obj(["text"], text=_s(), type=_s(enum=["Short field", "Email", "Options"]), required=BOOL,
                   options=_list(_s()))
BRIEF_IN = dict(topic=_s(), goal=_s(), critical=_s(nullable=True), context=_s(nullable=True),
                questions=_list(QUESTION_IN), results_visibility=_s(enum=["public", "participants", "host"]))
BODIES = {
    "NewSession": _obj(["topic", "goal"], template_id=_s(nullable=True), **BRIEF_IN),
    "SessionChanges": _obj([], **BRIEF_IN),
    "ResponseSubmission": _obj(["content"], content={"type": "string", "minLength": 1, "maxLength": 10000}),
    "ChatTurn": _obj(["content", "participant_id"], content={"type": "string", "minLength": 1, "maxLength": 10000},
                     participant_id=_s(), participant_name=_s(nullable=True), seen_seq=INT),
    "ChatStart": _obj(["participant_id"], participant_id=_s(), participant_name=_s(nullable=True),
                      answers=_list(_obj(["question_id", "answer"], question_id=_s(), answer={}))),
}

ERRORS = {"401": "Missing, unknown or revoked API key", "404": "Not found, or not visible to the key's user",
          "422": "A body or parameter that cannot be used (the message names the field)",
          "429": "Rate limit exceeded (Retry-After says when to try again)"}


def _op(summary: str, answer: dict | None, *, status: str = "200", body: str | None = None,
        params: list[dict] | None = None, media: str = "application/json", extra: dict | None = None) -> dict:
    responses = {status: {"description": summary, "content": {media: {"schema": answer or {"type": "string"}}}}}
    responses |= {code: {"description": text, "content": {"application/json": {"schema": _ref("Error")}}}
                  for code, text in (ERRORS | (extra or {})).items()}
    op: dict[str, Any] = {"summary": summary, "responses": responses}
    if body:
        op["requestBody"] = {"required": True, "content": {"application/json": {"schema": BODIES[body]}}}
    if params:
        op["parameters"] = params
    return op


def _q(name: str, schema: dict, text: str) -> dict:
    return {"name": name, "in": "query", "schema": schema, "description": text}


SESSION_ID = [{"name": "id", "in": "path", "required": True, "schema": _s()}]
STATE = {"400": "The session is not open for answers"}


def document() -> dict:
    data = {"type": "object", "required": ["data"]}
    paths = {
        "/me": {"get": _op("The key's user and the key", _ref("UserInfo"))},
        "/sessions": {
            "get": _op("Sessions the user may open, most recent activity first",
                       _obj(["data", "pagination"], data=_list(_ref("SessionListItem")),
                            pagination=_ref("Pagination")),
                       params=[_q("status", _s(enum=["active", "completed"]), "active (draft or open) or completed"),
                               _q("q", _s(), "words in the topic or goal"),
                               _q("limit", {"type": "integer", "minimum": 1, "maximum": 100, "default": 20}, ""),
                               _q("offset", {"type": "integer", "minimum": 0, "default": 0}, "")]),
            "post": _op("Create a session, open for answers at once", _ref("Session"), status="201",
                        body="NewSession"),
        },
        "/sessions/{id}": {"parameters": SESSION_ID,
                           "get": _op("A session", _ref("Session")),
                           "patch": _op("Change a session's brief, questions or results visibility", _ref("Session"),
                                        body="SessionChanges")},
        "/sessions/{id}/close": {"parameters": SESSION_ID, "post": _op("Close to participants", _ref("Session"),
                                                                       extra=STATE)},
        "/sessions/{id}/reopen": {"parameters": SESSION_ID, "post": _op("Open again", _ref("Session"), extra=STATE)},
        "/sessions/{id}/questions": {"parameters": SESSION_ID, "get": _op(
            "The questions participants answer before the conversation", data | {"properties": {
                "data": _list(_ref("Question"))}})},
        "/sessions/{id}/guide": {"parameters": SESSION_ID, "get": _op("The facilitation guide", _ref("Guide"))},
        "/sessions/{id}/responses": {
            "parameters": SESSION_ID,
            "get": _op("Every participant's conversation", data | {"properties": {
                "data": _list(_ref("Participant"))}}),
            "post": _op("Answer as the key's user (their own participation)", _ref("ResponseCreated"), status="201",
                        body="ResponseSubmission", extra=STATE)},
        "/sessions/{id}/chat/questions": {"parameters": SESSION_ID, "post": _op(
            "Start a client's participant with their answers to the questions", _ref("ChatReply"), body="ChatStart",
            extra=STATE)},
        "/sessions/{id}/chat": {"parameters": SESSION_ID, "post": _op(
            "One turn of a client's participant: their answer, the facilitator's reply", _ref("ChatReply"),
            body="ChatTurn", extra=STATE | {"409": "That turn was already answered (see seen_seq)"})},
        "/sessions/{id}/summary": {"parameters": SESSION_ID, "get": _op("The latest summary", _ref("Summary"))},
        "/sessions/{id}/session-md": {"parameters": SESSION_ID, "get": _op(
            "The results report (Markdown)", None, media="text/markdown")},
        "/sessions/{id}/themes": {"parameters": SESSION_ID, "get": _op("Themes with counts and quotes",
                                                                       _ref("Themes"))},
        "/sessions/{id}/export": {"parameters": SESSION_ID, "get": _op(
            "An export file", None, media="application/octet-stream",
            params=[_q("format", _s(enum=list(FORMATS)), "the export's kind"),
                    _q("raw_cells", _s(enum=["1", "true"]), "CSV cells exactly as typed (never the default)")])},
        "/projects": {"get": _op("The user's projects", _ref("Projects"))},
    }
    return {"openapi": "3.1.0",
            "info": {"title": "Harmonica API", "version": VERSION,
                     "description": "Compatible with the hosted Harmonica's REST API v1; see docs/api.md."},
            "servers": [{"url": "/api/v1"}],
            "security": [{"apiKey": []}],
            "components": {"securitySchemes": {"apiKey": {"type": "http", "scheme": "bearer",
                                                          "description": "hm_live_ + 32 hex, from the Account page"}},
                           "schemas": SCHEMAS},
            "paths": paths}
