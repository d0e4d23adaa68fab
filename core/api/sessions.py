"""Sessions in the v1 contract: list, read, create, change, close and reopen, and their questions and guide.

Every handler reaches data through the core functions the pages use, so the key's user has exactly their rights
there (core/permissions.py): a session they may not see is "not found". v1's `active / completed` is our open (or
draft) / closed; `lifecycle` says which.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from core import results, sessions
from core.api import bodies
from core.api.http import ApiError, Call, invalid
from core.brief import ITEM_MAX, Brief, parse_items
from core.forms import FormField
from core.permissions import Permission
from core.repos import sessions as srepo
from core.repos.sessions import SessionRow
from core.sessions import InvalidInput, current_guide, get_for, list_for, save_form
from core.sharing import SharingError, set_visibility

STATUS = {"draft": "active", "launched": "active", "closed": "completed"}


LIFECYCLE = {"draft": "draft", "launched": "open", "closed": "closed"}


def stamp(value: datetime | None) -> str | None:
    """Our naive UTC times as RFC 3339."""
    return None if value is None else value.replace(microsecond=0).isoformat() + "Z"


def query_int(call: Call, name: str, default: int, low: int, high: int) -> int:
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


def list_sessions(call: Call) -> dict:
    status = call.query.get("status")
    if status not in (None, "", "active", "completed"):
        raise invalid("status must be 'active' or 'completed'.")
    limit, offset = query_int(call, "limit", 20, 1, 100), query_int(call, "offset", 0, 0, 10**9)
    q = (call.query.get("q") or "").strip().lower()
    rows = list_for(call.db, call.user)   # the sessions the user may open, most recent activity first
    full = srepo.get_sessions(call.db, [r["id"] for r in rows])
    rows = [r for r in rows if (not status or STATUS[r["status"]] == status)
            and (not q or q in r["name"].lower() or q in full[r["id"]].objective.lower())]
    return {"data": [session_item(full[r["id"]], r["started"]) for r in rows[offset:offset + limit]],
            "pagination": {"total": len(rows), "limit": limit, "offset": offset}}


def session_for(call: Call, permission: Permission = Permission.VIEW_RESULTS) -> SessionRow:
    """The session of the path, if the key's user holds `permission` on it (else AccessDenied: a 404)."""
    return get_for(call.db, call.user, call.params["id"], permission)


def latest_run(call: Call, session: SessionRow):
    """The session's latest synthesis run, or None before any."""
    view = results.open(call.db, call.user, session.id).synthesis_view()
    return None if view is None else view.run


def get_session(call: Call) -> dict:
    session = session_for(call)
    run = latest_run(call, session)
    started = srepo.list_sessions_with_stats(call.db, [session.id])[0]["started"]
    return {**session_item(session, started), "critical": "\n".join(session.critical_items) or None,
            "context": session.context or None, "summary": run.summary if run else None,
            "join_url": f"{call.base_url}/chat?s={session.id}" if session.status == "launched" else None,
            "results_url": f"{call.base_url}/results?s={session.id}"}


def questions(call: Call) -> dict:
    """The questions participants answer before the conversation (our pre-session form), as the hosted v1 has it."""
    session = session_for(call)
    types = {ours: theirs for theirs, ours in bodies.QUESTION_TYPES.items()}
    return {"data": [{"id": f.key, "text": f.label, "position": i + 1, "type": types.get(f.type, f.type),
                      "required": f.required, "options": f.options}
                     for i, f in enumerate(srepo.get_form(call.db, session.id))]}


def guide(call: Call) -> dict:
    """The facilitation guide: the questions the facilitator asks, in order (ours; v1 calls its own a prompt)."""
    version = current_guide(call.db, call.user, call.params["id"])
    return {"version": version.version if version else None,
            "data": [{"position": i + 1, "question": step.question, "probe": step.probe,
                      "critical_item": step.critical_item} for i, step in enumerate(version.steps if version else [])]}


VISIBILITY = {"host": "editors", "participants": "participants", "public": "public"}


BRIEF_FIELDS = {"name": "topic", "objective": "goal", "critical_items": "critical", "context": "context"}


def _invalid_input(exc: InvalidInput) -> ApiError:
    errors = exc.errors.items() if isinstance(exc.errors, dict) else [("", m) for m in exc.errors]
    return invalid("; ".join(f"{BRIEF_FIELDS.get(k, k)}: {m}" if k else m for k, m in errors))


def _form(questions: list[bodies.Question]) -> list[FormField]:
    return [FormField(key=f"q{i + 1}", label=q.text, type=bodies.QUESTION_TYPES[q.type], required=q.required,
                      options=q.options) for i, q in enumerate(questions)]


def _brief(changes, session: SessionRow | None = None) -> Brief:
    def pick(new, old):
        return old if new is None else new
    return Brief(pick(changes.topic, session and session.name), pick(changes.goal, session and session.objective),
                 parse_items(changes.critical) if changes.critical is not None
                 else (session.critical_items if session else []),
                 pick(changes.context, session.context if session else "") or "")


NO_PROMPT = ("prompt: a custom facilitation prompt is not supported here: the facilitation guide is made from the "
             "brief (or template_id) and edited on the Design page; GET /sessions/{id}/guide shows it.")


def _apply(call: Call, session_id: str, changes) -> None:
    try:
        if changes.questions is not None:
            save_form(call.db, call.user, session_id, _form(changes.questions))
        if changes.results_visibility is not None:
            set_visibility(call.db, call.user, session_id, VISIBILITY[changes.results_visibility])
    except InvalidInput as exc:
        raise _invalid_input(exc) from None
    except SharingError as exc:
        raise invalid(str(exc)) from None


def create_session(call: Call) -> dict:
    new = bodies.parse(bodies.NewSession, call.body)
    if new.prompt:
        raise invalid(NO_PROMPT)
    brief = _brief(new)
    if not brief.critical_items:   # the hosted Harmonica makes "critical" optional: the goal is what matters then
        brief = replace(brief, critical_items=[brief.objective[:ITEM_MAX - 1]])
    try:
        session = sessions.create_session(call.db, call.user, brief, template_key=new.template_id)
    except InvalidInput as exc:
        raise _invalid_input(exc) from None
    _apply(call, session.id, new)
    sessions.set_status(call.db, call.user, session.id, "launched")   # v1 sessions take answers once created
    call.params["id"] = session.id
    return get_session(call)


def update_session(call: Call) -> dict:
    changes = bodies.parse(bodies.SessionChanges, call.body)
    session = session_for(call, Permission.EDIT)
    if changes.prompt:
        raise invalid(NO_PROMPT)
    if any(getattr(changes, f) is not None for f in ("topic", "goal", "critical", "context")):
        try:
            sessions.update_brief(call.db, call.user, session.id, _brief(changes, session))
        except InvalidInput as exc:
            raise _invalid_input(exc) from None
    _apply(call, session.id, changes)
    return get_session(call)


def _lifecycle(call: Call, status: str) -> dict:
    session = session_for(call, Permission.EDIT)
    if session.status != status:
        try:
            sessions.set_status(call.db, call.user, session.id, status)
        except InvalidInput as exc:
            raise ApiError(400, "validation_error", _invalid_input(exc).message) from None
    return get_session(call)


def close_session(call: Call) -> dict:
    return _lifecycle(call, "closed")


def reopen_session(call: Call) -> dict:
    return _lifecycle(call, "launched")

