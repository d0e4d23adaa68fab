"""The /api/v1 routes (Starlette), served by `streamlit run Home.py` in the app's own process and port."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route

from core.api import openapi, v1
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
        write("POST", "/sessions", v1.create_session, 201),
        write("PATCH", "/sessions/{id}", v1.update_session),
        write("POST", "/sessions/{id}/close", v1.close_session),
        write("POST", "/sessions/{id}/reopen", v1.reopen_session),
        write("POST", "/sessions/{id}/responses", v1.submit_response, 201),
        write("POST", "/sessions/{id}/chat", v1.chat),
        write("POST", "/sessions/{id}/chat/questions", v1.chat_questions),
        get("/sessions/{id}/guide", v1.guide),
        get("/me", v1.me),
        get("/sessions", v1.list_sessions),
        get("/sessions/{id}", v1.get_session),
        get("/sessions/{id}/questions", v1.questions),
        get("/sessions/{id}/responses", v1.responses),
        get("/sessions/{id}/summary", v1.summary),
        get("/sessions/{id}/session-md", v1.session_md),
        get("/sessions/{id}/export", v1.export_file),
        get("/sessions/{id}/themes", v1.themes),
        get("/projects", v1.projects),
    ]
