"""Conversations in the v1 contract: every participant's messages, an answer as the key's user, and a client's
participant run turn by turn through our facilitator (`chat/questions`, then `chat`)."""

from __future__ import annotations

from core import conversation, export, modes
from core.api import bodies
from core.api.http import ApiError, Call, invalid
from core.api.sessions import session_for, stamp
from core.conversation import ChatUnavailable, FormErrors
from core.permissions import Permission
from core.repos import participants as prepo
from core.repos.participants import Message, Participant
from core.repos.sessions import SessionRow


def responses(call: Call) -> dict:
    people = export.transcripts(call.db, call.user, call.params["id"])   # checks "read transcripts"
    roles = {"participant": "user", "facilitator": "assistant"}
    return {"data": [{"participant_name": p["participant"], "participant_id": p["participant_id"],
                      "status": p["status"],
                      "messages": [{"role": roles.get(m["role"], m["role"]), "content": m["content"],
                                    "created_at": m["created_at"] + "Z"} for m in p["messages"]]}
                     for p in people if not p["simulated"]]}


def _open_for_answers(call: Call) -> SessionRow:
    session = session_for(call, Permission.EDIT)   # as the hosted v1: writing answers needs editor access
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
    return {"id": stored.id, "session_id": session.id, "content": stored.content,
            "created_at": stamp(stored.created_at)}


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

