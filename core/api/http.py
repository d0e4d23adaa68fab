"""The API's HTTP plumbing: Bearer keys, the per-key rate limit, JSON bodies, and the v1 error shape.

Every endpoint is a plain function `handler(call) -> dict | Response` run on Starlette's thread pool (the core
functions are blocking DuckDB calls). Errors have the hosted Harmonica's shape, `{"error": {"code", "message"}}`:
401 unauthorized, 404 not_found (also for a session the key's user may not see: no existence leak), 422
validation_error, 429 rate_limited with Retry-After, 500 internal_error with a reference to the server log.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from core import apikeys
from core.clock import utcnow
from core.config import live, settings
from core.db import Database, configured_database
from core.errors import report
from core.permissions import AccessDenied
from core.repos import api_keys as apikeys_repo
from core.repos.api_keys import ApiKey
from core.repos.audit import insert_audit
from core.repos.users import User

MAX_BODY = 256 * 1024   # bytes: the largest legitimate body is a session brief with its questions


class ApiError(Exception):
    """An answer other than success, in the v1 error shape."""

    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status, self.code, self.message, self.headers = status, code, message, headers or {}

    def response(self) -> JSONResponse:
        return JSONResponse({"error": {"code": self.code, "message": self.message}}, self.status, self.headers)


def not_found(what: str = "Session") -> ApiError:
    return ApiError(404, "not_found", f"{what} not found")


def invalid(message: str) -> ApiError:
    return ApiError(422, "validation_error", message)


@dataclass
class Call:
    """One authenticated request, as the handlers see it."""
    db: Database
    user: User
    key: ApiKey
    params: dict[str, str]                  # path parameters
    query: dict[str, str]
    body: dict[str, Any] = field(default_factory=dict)
    base_url: str = ""      # HARMONICA_BASE_URL, else the address the client used: for links people can open


def check_rate(db: Database, key_id: str, per_minute: int) -> None:
    """At most `per_minute` requests per key in any 60 s, counted in the database (so across every replica)."""
    now = utcnow()
    free_at = apikeys_repo.admit_request(db, key_id, per_minute, now)
    if free_at is not None:
        wait = max(1, math.ceil((free_at - now).total_seconds()))
        raise ApiError(429, "rate_limited", f"Rate limit exceeded. Try again in {wait} seconds.",
                       {"Retry-After": str(wait)})


def per_minute() -> int:
    return live("HARMONICA_API_RPM")


def _authenticate(db: Database, request: Request) -> tuple[User, ApiKey]:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    found = apikeys.user_for_key(db, token.strip()) if scheme.lower() == "bearer" else None
    if found is None:
        raise ApiError(401, "unauthorized", "Invalid or missing API key",
                       {"WWW-Authenticate": 'Bearer realm="harmonica"'})
    return found


async def _json_body(request: Request) -> dict[str, Any]:
    if request.method not in ("POST", "PATCH", "PUT"):
        return {}
    raw = await request.body()
    if len(raw) > MAX_BODY:
        raise ApiError(413, "validation_error", f"The body is too large (at most {MAX_BODY // 1024} KiB).")
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise invalid(f"The body is not valid JSON ({exc.__class__.__name__}).") from exc
    if not isinstance(body, dict):
        raise invalid("The body must be a JSON object.")
    return body


Handler = Callable[[Call], "dict | list | Response"]


def endpoint(handler: Handler, status: int = 200) -> Callable[[Request], Awaitable[Response]]:
    """A Starlette endpoint running `handler` for an authenticated, rate-limited request."""
    async def run(request: Request) -> Response:
        try:
            db = configured_database()   # the pages' Database: same write lock, same file
            user, key = await run_in_threadpool(_authenticate, db, request)
            await run_in_threadpool(check_rate, db, key.id, per_minute())
            base = (settings().base_url or f"{request.url.scheme}://{request.url.netloc}").rstrip("/")
            call = Call(db, user, key, dict(request.path_params), dict(request.query_params),
                        await _json_body(request), base)
            result = await run_in_threadpool(handler, call)
            if request.method != "GET":   # every write through a key is in the audit log, with the key used
                await run_in_threadpool(insert_audit, db, user.id, f"api.{handler.__name__}", "session",
                                        call.params.get("id", ""), {"key": key.key_prefix, "path": request.url.path})
        except ApiError as exc:
            return exc.response()
        except AccessDenied:
            return not_found().response()
        except Exception as exc:  # noqa: BLE001 - the client gets a reference, the log the traceback
            message = report(exc, f"API {request.method} {request.url.path}")
            return ApiError(500, "internal_error", message).response()
        return result if isinstance(result, Response) else JSONResponse(result, status)
    return run
