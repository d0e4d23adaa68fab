"""A participant's conversation: join, pre-session form, answers, facilitator turns, finish.

A participant's message is committed before any reply is computed, and a reply that fails is never
stored: the conversation is left "waiting for a reply", which `respond` completes on the next try.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

from core.clock import utcnow
from core.db import Database
from core.facilitation.offline import OfflineFacilitator
from core.facilitation.protocol import Action, Facilitator, Turn, TurnContext, TurnPlan
from core.facilitation.tracker import is_skip, plan_after_answer
from core.forms import FormField, validate_answers
from core.guide import Step
from core.i18n import LANGUAGES, phrase
from core.ids import looks_like_id
from core.llm.errors import LLMError, LLMTimeout
from core.llm.gate import LLMUnavailable
from core.repos import participants as prepo
from core.repos import sessions as srepo
from core.repos.participants import Message, Participant
from core.repos.sessions import SessionRow
from core.text import clean_message

log = logging.getLogger(__name__)


class ChatUnavailable(Exception):
    """The link cannot be used; the message is fit to show the participant."""


@dataclass(frozen=True)
class Chat:
    """What the chat page needs to draw one participant's conversation."""

    session: SessionRow
    participant: Participant
    steps: list[Step]
    form: list[FormField]
    messages: list[Message]
    answers: dict[str, str] = field(default_factory=dict)  # pre-session form answers, by field key

    @property
    def finished(self) -> bool:
        return self.participant.status == "finished"

    @property
    def language(self) -> str:
        """The conversation's language: the participant's choice when allowed, else the session's."""
        return self.participant.language or self.session.language

    @property
    def awaiting_reply(self) -> bool:
        """The last message is the participant's: a reply is owed (e.g. the last attempt failed)."""
        return (self.participant.status == "chatting" and bool(self.messages)
                and self.messages[-1].role == "participant")

    @property
    def awaiting_opening(self) -> bool:
        """No message yet: the opening question is owed (joined with `ask_first=False`)."""
        return self.participant.status == "chatting" and not self.messages

    @property
    def progress(self) -> tuple[int, int]:
        return min(self.participant.step + 1, len(self.steps)), len(self.steps)


@dataclass(frozen=True)
class SendResult:
    error: str | None = None
    notice: str | None = None
    message: Message | None = None


def open_session(db: Database, session_id: str | None) -> SessionRow:
    """The session behind a share link, or ChatUnavailable with a plain explanation."""
    session = srepo.get_session(db, session_id) if looks_like_id(session_id) else None
    if session is None:
        raise ChatUnavailable("This link does not lead to any session. Please check the address you were given.")
    if session.status == "draft":
        raise ChatUnavailable("This session has not opened yet. Please come back when the organiser launches it.")
    if session.status == "closed":
        raise ChatUnavailable("This session is closed and no longer accepts answers. Thank you for your interest.")
    return session


class FormErrors(Exception):
    """The pre-session form has errors, by field key; nothing was stored."""

    def __init__(self, errors: dict[str, str]):
        self.errors = errors
        super().__init__("; ".join(errors.values()))


CONSENT_KEY = "_consent"


def join(db: Database, session_id: str, answers: dict[str, Any] | None = None, *, user_id: str | None = None,
         simulated: bool = False, consented: bool = True, ask_first: bool = True,
         language: str | None = None, external_id: str | None = None) -> Participant:
    """Check the form answers, create the participant with them, and ask the first question.

    A signed-in participant who joins again gets their existing conversation back, and so does a client's
    participant named by `external_id` (the API). With `ask_first=False` the opening question is left to the
    caller (the chat page streams it from the model).
    """
    session = open_session(db, session_id)
    existing = (prepo.find_for_user(db, session.id, user_id) if user_id
                else prepo.find_by_external_id(db, session.id, external_id) if external_id else None)
    if existing:
        return existing
    clean, errors = validate_answers(srepo.get_form(db, session.id), answers or {})
    if not consented:  # the chat page asks for consent (recorded with its time) before anything is stored
        errors[CONSENT_KEY] = "Please agree to take part before starting."
    if errors:
        raise FormErrors(errors)
    chosen = language if session.language_choice and language in LANGUAGES else None
    participant = prepo.insert_participant(db, session.id, session.guide_version or 1, "chatting",
                                           simulated=simulated, user_id=user_id, answers=clean, language=chosen,
                                           external_id=external_id)
    # (a client's participant that a concurrent request has just made has its opening question already)
    if ask_first and (external_id is None or not prepo.list_messages(db, participant.id)):
        respond(db, participant.token)
    return prepo.get_participant(db, participant.id)


def load_chat(db: Database, token: str | None) -> Chat:
    participant = prepo.get_by_token(db, token) if looks_like_id(token) else None
    if participant is None:
        raise ChatUnavailable("We could not find this conversation. The link may be incomplete.")
    session = srepo.get_session(db, participant.session_id)
    guide = srepo.get_guide_version(db, session.id, participant.guide_version)
    return Chat(session, participant, guide.steps if guide else [], srepo.get_form(db, session.id),
                prepo.list_messages(db, participant.id), prepo.get_form_answers(db, participant.id))


def _require_open(chat: Chat) -> None:
    if chat.session.status == "closed":
        raise ChatUnavailable("This session has been closed by the organiser; your answers so far are saved.")
    if chat.finished:
        raise ChatUnavailable("You have finished this conversation. Thank you!")


def record_answer(db: Database, token: str, raw_text: str, seen_seq: int | None = None) -> SendResult:
    """Validate and commit the participant's message; the reply is a separate step (`respond`).

    `seen_seq` is the last message the participant saw: a second submit of the same view (a double
    click, two tabs) is refused however the two requests are scheduled.
    """
    chat = load_chat(db, token)
    _require_open(chat)
    cleaned = clean_message(raw_text)
    if cleaned.error:
        return SendResult(error=cleaned.error)
    if chat.awaiting_reply:
        return SendResult(error=WAIT_FOR_REPLY)
    kind = "skip" if is_skip(cleaned.text, chat.language) else "answer"
    return _append_answer(db, chat, kind, cleaned.text, cleaned.notice, seen_seq)


WAIT_FOR_REPLY = "Please wait for the facilitator's reply to your last message."


def _last_seq(chat: Chat) -> int:
    return chat.messages[-1].seq if chat.messages else 0


def _append_answer(db: Database, chat: Chat, kind: str, text: str, notice: str | None = None,
                   seen_seq: int | None = None) -> SendResult:
    after = _last_seq(chat) if seen_seq is None else seen_seq
    try:
        msg = prepo.append_message(db, chat.participant.id, "participant", kind, chat.participant.step, text,
                                   after_seq=after)
    except prepo.StaleConversation:  # a second submit raced the first: the first one counts
        return SendResult(error=WAIT_FOR_REPLY)
    return SendResult(notice=notice, message=msg)


def record_skip(db: Database, token: str, seen_seq: int | None = None) -> SendResult:
    chat = load_chat(db, token)
    _require_open(chat)
    if chat.awaiting_reply:
        return SendResult(error=WAIT_FOR_REPLY)
    return _append_answer(db, chat, "skip", "Skip", seen_seq=seen_seq)


def ended_early(chat: Chat) -> bool:
    """Whether the conversation ends before the participant answered (or skipped) the guide's last step."""
    last = len(chat.steps) - 1
    return not any(m.role == "participant" and m.step == last for m in chat.messages)


def next_plan(chat: Chat, finish: bool = False) -> TurnPlan:
    p = chat.participant
    if finish:
        return TurnPlan(Action.CLOSE, p.step, "finish")
    if not chat.messages or chat.messages[-1].role != "participant":
        return TurnPlan(Action.ASK, p.step, "start")
    last = chat.messages[-1]
    turns = sum(1 for m in chat.messages if m.role == "participant")
    return plan_after_answer(chat.steps, p.step, p.probed, last.kind, last.content, turns, chat.session.max_turns)


def shared_answers(form: list[FormField], answers: dict[str, str]) -> dict[str, str]:
    """Label -> answer for the fields the creator marked shareable with the model (none by default).

    Emails and fields marked identifying are never shared, even when ticked: the facilitator has no use
    for them, and a model endpoint may be a third party.
    """
    shared = {}
    for f in form:
        private = f.type == "email" or getattr(f, "identifying", False)
        if f.share_with_model and not private and answers.get(f.key):
            value = answers[f.key]
            shared[f.label] = ", ".join(prepo.load_json_list(value)) if f.type == "multiple_choice" else value
    return shared


def turn_context(chat: Chat, plan: TurnPlan) -> TurnContext:
    history = [Turn(m.role, m.kind, m.step, m.content) for m in chat.messages]
    return TurnContext(chat.session.name, chat.language, chat.session.objective, chat.steps, plan, history,
                       shared_answers(chat.form, chat.answers), chat.session.id, chat.participant.id)


def respond(db: Database, token: str, facilitator: Facilitator | None = None, *, finish: bool = False,
            on_text: Callable[[str], None] | None = None) -> Message:
    """Compute, store and return the facilitator's next message; `on_text` gets the text so far as it streams.

    If the facilitator fails, `on_text` shows a short apology and it is tried again (`facilitator.retries`
    times); after that the offline facilitator words the same turn, so the conversation never dead-ends and no
    error text is stored as a message.
    """
    chat = load_chat(db, token)
    if chat.finished:
        raise ChatUnavailable("You have finished this conversation. Thank you!")
    plan = next_plan(chat, finish=finish)
    ctx = turn_context(chat, plan)
    facilitator = facilitator or OfflineFacilitator()
    source = facilitator.source
    text = None
    attempts = 1 + max(0, facilitator.retries)
    model_ctx = ctx
    if chat.session.redact and facilitator.source != "offline":  # personal details never reach the model
        from core.privacy import names_to_redact, redact_context

        model_ctx = redact_context(ctx, names_to_redact(db, chat.participant.id, chat.session.id))
    timeouts = 0
    for attempt in range(1, attempts + 1):
        try:
            text = _collect(facilitator.stream(model_ctx), on_text)
            break
        except Exception as exc:  # any model failure: apologise and retry, then the offline wording takes over
            if facilitator.source == "offline":
                raise               # deterministic wording failing is a bug, not a fault to retry
            # model errors carry a readable message; anything else gets its traceback in the log
            log.warning("facilitator failed (attempt %d of %d): %s", attempt, attempts, exc,
                        exc_info=not isinstance(exc, LLMError))
            if isinstance(exc, LLMUnavailable):
                break           # the endpoint is paused or full: another try would only add a wait
            if on_text:
                on_text(phrase(chat.language, "retry_apology"))
            timeouts += isinstance(exc, LLMTimeout)
            if timeouts >= 2:   # a participant waits: a slow or hung model gets one second chance, not more
                break
            if attempt < attempts:
                time.sleep(facilitator.retry_delay_s * attempt)
    if text is None:
        offline = OfflineFacilitator()
        source = offline.source
        text = _collect(offline.stream(ctx), on_text)
    state: dict[str, Any] = {"step": plan.step, "probed": plan.action is Action.PROBE}
    kind = plan.action.value if plan.action is not Action.ASK else "question"
    if plan.action is Action.CLOSE:
        kind = "recap"
        state.update(status="finished", finished_at=utcnow(), ended_early=ended_early(chat))
    try:
        message = prepo.append_message(db, chat.participant.id, "facilitator", kind, plan.step, text, source, state,
                                       after_seq=_last_seq(chat))
    except prepo.StaleConversation:
        # Another request answered this turn first (a double submit or two open tabs): keep that reply.
        return prepo.list_messages(db, chat.participant.id)[-1]
    if plan.action is Action.CLOSE:  # synthesis refreshes in the background (debounced; never blocks or raises)
        from core import refresh

        refresh.participant_finished(db, chat.session.id)
    return message


def _collect(deltas: Iterator[str], on_text: Callable[[str], None] | None) -> str:
    parts: list[str] = []
    for delta in deltas:
        parts.append(delta)
        if on_text:
            on_text("".join(parts))
    text = "".join(parts).strip()
    if not text:
        raise ValueError("the facilitator produced an empty message")
    return text


def send(db: Database, token: str, text: str, facilitator: Facilitator | None = None,
         seen_seq: int | None = None) -> SendResult:
    """Record an answer and store the reply (command line, tests, simulated participants)."""
    result = record_answer(db, token, text, seen_seq)
    if result.error:
        return result
    reply = respond(db, token, facilitator)
    return SendResult(notice=result.notice, message=reply)


def transcript_text(chat: Chat) -> str:
    """The conversation as plain text, for the participant to download."""
    lines = [chat.session.name, ""]
    for m in chat.messages:
        who = "Facilitator" if m.role == "facilitator" else "You"
        lines.append(f"[{m.created_at:%Y-%m-%d %H:%M} UTC] {who}:\n{m.content}\n")
    return "\n".join(lines)


def finish(db: Database, token: str, facilitator: Facilitator | None = None) -> Message:
    chat = load_chat(db, token)
    _require_open(chat)
    return respond(db, token, facilitator, finish=True)
