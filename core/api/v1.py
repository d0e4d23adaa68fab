"""The v1 endpoints: the hosted Harmonica's contract (docs/api.md), mapped onto our core functions.

Every handler reaches data through the same core functions as the pages, so the key's user gets exactly the
rights they have there (core/permissions.py): a session they may not see is "not found", identifying form answers
stay out unless they may see them. Their `active / completed` is our open (or draft) / closed.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from starlette.responses import Response

from core import conversation, export, modes, sessions
from core.api import bodies
from core.api.http import ApiError, Call, invalid, not_found
from core.brief import ITEM_MAX, Brief, parse_items
from core.conversation import ChatUnavailable, FormErrors
from core.formats import FORMATS
from core.forms import FormField
from core.permissions import Permission
from core.projects import my_projects
from core.repos import participants as prepo
from core.repos import sessions as srepo
from core.repos.participants import Message, Participant
from core.repos.sessions import SessionRow
from core.results import synthesis_view
from core.sessions import InvalidInput, current_guide, get_for, list_for, save_form
from core.sharing import SharingError, set_visibility

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
    """The questions participants answer before the conversation (our pre-session form), as the hosted v1 has it."""
    session = _session(call)
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


# ------------------------------------------------------------------------------------------------ writes

VISIBILITY = {"host": "editors", "participants": "participants", "public": "public"}
BRIEF_FIELDS = {"name": "topic", "objective": "goal", "critical_items": "critical", "context": "context"}


def _invalid_input(exc: InvalidInput) -> ApiError:
    errors = exc.errors if isinstance(exc.errors, dict) else {"": e for e in exc.errors}
    return invalid("; ".join(f"{BRIEF_FIELDS.get(k, k)}: {m}" if k else m for k, m in errors.items()))


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
    session = _session(call, Permission.EDIT)
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
    session = _session(call, Permission.EDIT)
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


# ------------------------------------------------------------------------------------------------ conversations

def _open_for_answers(call: Call) -> SessionRow:
    session = _session(call, Permission.EDIT)   # as the hosted v1: writing answers needs editor access
    if session.status != "launched":
        raise ApiError(400, "validation_error", "Session is not active")
    return session


def _join(call: Call, session: SessionRow, answers: dict, **who) -> Participant:
    try:
        return conversation.join(call.db, session.id, answers, **who)
    except FormErrors as exc:
        raise invalid("; ".join(f"{k}: {m}" for k, m in exc.errors.items())) from None


def _answer(call: Call, token: str, text: str, seen_seq: int | None) -> Message:
    """Store the answer and the facilitator's reply; the reply."""
    try:
        result = conversation.record_answer(call.db, token, text, seen_seq)
        if result.error:
            # a turn already answered (a retried request, or a stale `seen_seq`) is a conflict, not a bad body
            conflict = result.error == conversation.WAIT_FOR_REPLY
            raise ApiError(409 if conflict else 422, "validation_error", result.error)
        return conversation.respond(call.db, token, modes.facilitator(call.db))
    except ChatUnavailable as exc:
        raise ApiError(400, "validation_error", str(exc)) from None


def submit_response(call: Call) -> dict:
    """An answer as the key's own user: their participation in the session, joined on first use."""
    session = _open_for_answers(call)
    text = bodies.parse(bodies.Response, call.body).content
    participant = _join(call, session, {}, user_id=call.user.id)
    _answer(call, participant.token, text, None)
    stored = next(m for m in reversed(prepo.list_messages(call.db, participant.id)) if m.role == "participant")
    return {"id": stored.id, "session_id": session.id, "content": stored.content, "created_at": stamp(stored.created_at)}


def _thread(call: Call, participant: Participant, reply: Message | None = None) -> dict:
    chat = conversation.load_chat(call.db, participant.token)
    last = reply or next((m for m in reversed(chat.messages) if m.role == "facilitator"), None)
    return {"message": {"role": "assistant", "content": last.content if last else "", "is_final": chat.finished},
            "thread_id": participant.id, "seq": chat.messages[-1].seq if chat.messages else 0}


def _external_id(call: Call, participant_id: str) -> str:
    # scoped to the key's user: two API users' clients may both call someone "p1"
    return f"api:{call.user.id}:{participant_id}"


def chat_questions(call: Call) -> dict:
    """Start a client's participant with their answers to the session's questions; the opening question."""
    session = _open_for_answers(call)
    start = bodies.parse(bodies.ChatStart, call.body)
    answers = {a.question_id: a.answer for a in start.answers}
    participant = _join(call, session, answers, external_id=_external_id(call, start.participant_id))
    return _thread(call, participant)


def chat(call: Call) -> dict:
    """One turn of a client's participant (joined on first use when the session asks no required question)."""
    session = _open_for_answers(call)
    turn = bodies.parse(bodies.ChatTurn, call.body)
    participant = _join(call, session, {}, external_id=_external_id(call, turn.participant_id))
    return _thread(call, participant, _answer(call, participant.token, turn.content, turn.seen_seq))


# ------------------------------------------------------------------------------------------------ ours

def themes(call: Call) -> dict:
    """The latest synthesis: themes with counts and quotes, as the Results page shows them to this user."""
    session = _session(call)
    view = synthesis_view(call.db, call.user, session.id)
    if view is None:
        raise not_found("Synthesis")
    return {"session_id": session.id,
            "run": {"id": view.run.id, "created_at": stamp(view.run.created_at), "mode": view.run.mode,
                    "up_to_date": view.up_to_date, "analysed_participants": view.analysed},
            "data": [{"id": t.theme_id, "position": t.position + 1, "label": t.label, "description": t.description,
                      "participants": t.participants, "mentions": t.mentions, "share": round(t.share, 1),
                      "steadiness": t.steadiness,
                      "quotes": [{"ref": q.ref, "participant": q.participant, "text": q.text} for q in t.quotes]}
                     for t in view.themes]}


def projects(call: Call) -> dict:
    return {"data": [{"id": p.id, "title": p.title, "description": p.description or None, "role": role,
                      "created_at": stamp(p.created_at)} for p, role in my_projects(call.db, call.user)]}
