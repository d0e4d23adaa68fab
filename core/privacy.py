"""Participant privacy: deleting one's participation, redaction before model calls."""

from __future__ import annotations

import re

from core.db import Database
from core.ids import looks_like_id
from core.repos import access as arepo
from core.repos import participants as prepo
from core.repos import sessions as srepo

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# International or local phone numbers: 7+ digits with optional spaces, dots, dashes, parentheses.
_PHONE = re.compile(r"(?<!\w)\+?\d[\d\s().-]{5,}\d(?!\w)")


def redact(text: str, names: list[str] = ()) -> str:
    """Replace emails, phone numbers and the given names with placeholders."""
    text = _EMAIL.sub("[email]", text)
    text = _PHONE.sub(lambda m: "[phone]" if sum(c.isdigit() for c in m.group()) >= 7 else m.group(), text)
    for name in sorted({n.strip() for n in names if n and len(n.strip()) >= 2}, key=len, reverse=True):
        text = re.sub(rf"(?<!\w){re.escape(name)}(?!\w)", "[name]", text, flags=re.IGNORECASE)
    return text


def names_to_redact(db: Database, participant_id: str, session_id: str) -> list[str]:
    """The participant's answers to identifying short-text fields (their declared name, etc.)."""
    answers = prepo.get_form_answers(db, participant_id)
    return [answers[f.key] for f in srepo.get_form(db, session_id)
            if f.identifying and f.type == "short_text" and f.key in answers]


def session_names(db: Database, session_ids: list[str]) -> list[str]:
    """Every declared name (identifying short-text answers) of the sessions' participants."""
    names: list[str] = []
    for session_id in session_ids:
        for participant in prepo.list_participants(db, session_id):
            names += names_to_redact(db, participant.id, session_id)
    return names


def redacts(db: Database, session_ids: list[str]) -> bool:
    """True when any of the sessions asks for redaction before model calls."""
    return any((s := srepo.get_session(db, sid)) is not None and s.redact for sid in session_ids)


def redact_context(ctx, names: list[str]):
    """A facilitation TurnContext whose participant text and shared answers are redacted (for a model)."""
    from dataclasses import replace

    history = [replace(t, content=redact(t.content, names)) if t.role == "participant" else t for t in ctx.history]
    shared = {label: redact(value, names) for label, value in ctx.shared_form.items()}
    return replace(ctx, history=history, shared_form=shared)


class RedactingModel:
    """Wraps a model client so every message and text it sends is redacted first; the rest is delegated."""

    def __init__(self, client, names: list[str]):
        self._client, self._names = client, names

    def __getattr__(self, name):
        return getattr(self._client, name)

    def _clean(self, messages):
        return [{**m, "content": redact(m["content"], self._names)} for m in messages]

    def complete(self, messages, **kwargs):
        return self._client.complete(self._clean(messages), **kwargs)

    def stream(self, messages, **kwargs):
        return self._client.stream(self._clean(messages), **kwargs)

    def structured(self, messages, schema, **kwargs):
        return self._client.structured(self._clean(messages), schema, **kwargs)

    def embed(self, texts, **kwargs):
        return self._client.embed([redact(t, self._names) for t in texts], **kwargs)


def delete_participation(db: Database, token: str) -> None:
    """Delete a participant's messages, form answers, derived quotes and theme assignments, and the participant.

    Called with the participant's own token (their only credential). Stored synthesis runs stop showing
    the participant's quotes at once; counts change with the next synthesis run.
    """
    participant = prepo.get_by_token(db, token) if looks_like_id(token) else None
    if participant is None:
        raise LookupError("We could not find this conversation.")
    prepo.delete_participant_rows(db, participant.id)
    arepo.insert_audit(db, None, "participant.delete", "session", participant.session_id,
                       {"participant": participant.number})
