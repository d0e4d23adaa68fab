"""The /api/v1 routes (Starlette), served by `streamlit run Home.py` in the app's own process and port."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route

from core.api import account, conversations, openapi, results, sessions
from core.api.http import endpoint

BASE = "/api/v1"


def api_routes() -> list[BaseRoute]:
    def get(path, handler):
        return Route(BASE + path, endpoint(handler), methods=["GET"])

    def write(method, path, handler, status=200):
        return Route(BASE + path, endpoint(handler, status), methods=[method])

    def describe(request: Request) -> JSONResponse:   # public: it says what exists, not what anyone holds
        return JSONResponse(openapi.document())

    return [
        Route(BASE + "/openapi.json", describe, methods=["GET"]),
        write("POST", "/sessions", sessions.create_session, 201),
        write("PATCH", "/sessions/{id}", sessions.update_session),
        write("POST", "/sessions/{id}/close", sessions.close_session),
        write("POST", "/sessions/{id}/reopen", sessions.reopen_session),
        write("POST", "/sessions/{id}/responses", conversations.submit_response, 201),
        write("POST", "/sessions/{id}/chat", conversations.chat),
        write("POST", "/sessions/{id}/chat/questions", conversations.chat_questions),
        get("/sessions/{id}/guide", sessions.guide),
        get("/me", account.me),
        get("/sessions", sessions.list_sessions),
        get("/sessions/{id}", sessions.get_session),
        get("/sessions/{id}/questions", sessions.questions),
        get("/sessions/{id}/responses", conversations.responses),
        get("/sessions/{id}/summary", results.summary),
        get("/sessions/{id}/session-md", results.session_md),
        get("/sessions/{id}/export", results.export_file),
        get("/sessions/{id}/themes", results.themes),
        get("/projects", account.projects),
    ]
