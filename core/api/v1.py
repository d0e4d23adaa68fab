"""The v1 endpoints: the hosted Harmonica's contract (docs/api.md), mapped onto our core functions.

Every handler reaches data through the same core functions as the pages, so the key's user gets exactly the
rights they have there (core/permissions.py): a session they may not see is "not found", identifying form answers
stay out unless they may see them. Their `active / completed` is our open (or draft) / closed.
"""

from __future__ import annotations

from datetime import datetime

from starlette.responses import Response

from core import export
from core.api.http import Call, invalid, not_found
from core.formats import FORMATS
from core.permissions import Permission
from core.repos import sessions as srepo
from core.repos.sessions import SessionRow
from core.results import synthesis_view
from core.sessions import current_guide, get_for, list_for

STATUS = {"draft": "active", "launched": "active", "closed": "completed"}
LIFECYCLE = {"draft": "draft", "launched": "open", "closed": "closed"}


def stamp(value: datetime | None) -> str | None:
    """Our naive UTC times as RFC 3339."""
    return None if value is None else value.replace(microsecond=0).isoformat() + "Z"


def _int(call: Call, name: str, default: int, low: int, high: int) -> int:
    raw = call.query.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise invalid(f"{name} must be a whole number.") from None
    if not low <= value <= high:
        raise invalid(f"{name} must be between {low} and {high}.")
    return value


def session_item(s: SessionRow, participants: int) -> dict:
    return {"id": s.id, "topic": s.name, "goal": s.objective, "status": STATUS[s.status],
            "lifecycle": LIFECYCLE[s.status], "participant_count": int(participants),
            "created_at": stamp(s.created_at), "updated_at": stamp(s.updated_at)}


# ------------------------------------------------------------------------------------------------ account

def me(call: Call) -> dict:
    u, k = call.user, call.key
    return {"id": u.id, "email": u.email, "name": u.name or None, "username": u.username,
            "subscription_status": "FREE",   # no plans here: every feature is available to every account
            "api_key": {"name": k.name, "key_prefix": k.key_prefix, "created_at": stamp(k.created_at),
                        "last_used_at": stamp(k.last_used_at)}}


# ------------------------------------------------------------------------------------------------ sessions

def list_sessions(call: Call) -> dict:
    status = call.query.get("status")
    if status not in (None, "", "active", "completed"):
        raise invalid("status must be 'active' or 'completed'.")
    limit, offset = _int(call, "limit", 20, 1, 100), _int(call, "offset", 0, 0, 10**9)
    q = (call.query.get("q") or "").strip().lower()
    rows = list_for(call.db, call.user)   # the sessions the user may open, most recent activity first
    full = srepo.get_sessions(call.db, [r["id"] for r in rows])
    rows = [r for r in rows if (not status or STATUS[r["status"]] == status)
            and (not q or q in r["name"].lower() or q in full[r["id"]].objective.lower())]
    return {"data": [session_item(full[r["id"]], r["started"]) for r in rows[offset:offset + limit]],
            "pagination": {"total": len(rows), "limit": limit, "offset": offset}}


def _session(call: Call, permission: Permission = Permission.VIEW_RESULTS) -> SessionRow:
    return get_for(call.db, call.user, call.params["id"], permission)


def _summary(call: Call, session: SessionRow):
    view = synthesis_view(call.db, call.user, session.id)
    return None if view is None else view.run


def get_session(call: Call) -> dict:
    session = _session(call)
    run = _summary(call, session)
    started = srepo.list_sessions_with_stats(call.db, [session.id])[0]["started"]
    return {**session_item(session, started), "critical": "\n".join(session.critical_items) or None,
            "context": session.context or None, "summary": run.summary if run else None,
            "join_url": f"{call.base_url}/chat?s={session.id}" if session.status == "launched" else None,
            "results_url": f"{call.base_url}/results?s={session.id}"}


def questions(call: Call) -> dict:
    guide = current_guide(call.db, call.user, call.params["id"])
    steps = guide.steps if guide else []
    return {"data": [{"id": f"q{i + 1}", "text": step.question, "position": i + 1}
                     for i, step in enumerate(steps)]}


def responses(call: Call) -> dict:
    people = export.transcripts(call.db, call.user, call.params["id"])   # checks "read transcripts"
    roles = {"participant": "user", "facilitator": "assistant"}
    return {"data": [{"participant_name": p["participant"], "participant_id": p["participant_id"],
                      "status": p["status"],
                      "messages": [{"role": roles.get(m["role"], m["role"]), "content": m["content"],
                                    "created_at": m["created_at"] + "Z"} for m in p["messages"]]}
                     for p in people if not p["simulated"]]}


def summary(call: Call) -> dict:
    session = _session(call)
    run = _summary(call, session)
    return {"session_id": session.id, "summary": run.summary if run else None,
            "generated_at": stamp(run.created_at) if run else None}


def session_md(call: Call) -> Response:
    session = _session(call, Permission.EXPORT)
    if _summary(call, session) is None:
        raise not_found("Summary")
    body = export.export_session(call.db, call.user, session.id, "report-md")
    return Response(body, media_type="text/markdown; charset=utf-8")


def export_file(call: Call) -> Response:
    fmt = call.query.get("format", "")
    if fmt not in FORMATS:
        raise invalid(f"format must be one of: {', '.join(FORMATS)}.")
    try:
        body = export.export_session(call.db, call.user, call.params["id"], fmt,
                                     raw_cells=call.query.get("raw_cells") in ("1", "true"))
    except ValueError as exc:   # a themes or report export before any synthesis
        raise not_found("Synthesis") from exc
    return Response(body, media_type=FORMATS[fmt].mime)
