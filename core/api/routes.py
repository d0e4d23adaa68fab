"""The /api/v1 routes (Starlette), served by `streamlit run Home.py` in the app's own process and port."""

from __future__ import annotations

from starlette.routing import BaseRoute, Route

from core.api import v1
from core.api.http import endpoint

BASE = "/api/v1"


def api_routes() -> list[BaseRoute]:
    def get(path, handler):
        return Route(BASE + path, endpoint(handler), methods=["GET"])

    return [
        get("/me", v1.me),
        get("/sessions", v1.list_sessions),
        get("/sessions/{id}", v1.get_session),
        get("/sessions/{id}/questions", v1.questions),
        get("/sessions/{id}/responses", v1.responses),
        get("/sessions/{id}/summary", v1.summary),
        get("/sessions/{id}/session-md", v1.session_md),
        get("/sessions/{id}/export", v1.export_file),
    ]
