"""Participant privacy: deleting one's participation, redaction before model calls."""

from __future__ import annotations

import re

from core.db import Database
from core.ids import looks_like_id
from core.repos import participants as prepo
from core.repos import sessions as srepo
from core.repos.audit import insert_audit

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# International or local phone numbers: 7+ digits with optional spaces, dots, dashes, parentheses.
_PHONE = re.compile(r"(?<!\w)\+?\d[\d\s().-]{5,}\d(?!\w)")
# Links (a profile, a document, a personal page: the path often names the person).
_URL = re.compile(r"(?i)\b(?:https?://|www\.)\S+")
# Street addresses: a house number, up to four words, a street word ("12 Baker Street", "221B Rue de Rivoli").
_ADDRESS = re.compile(r"(?i)\b\d{1,5}[a-z]?,?\s+(?:[\w'’.-]+\s+){0,4}?(?:street|st|road|rd|avenue|ave|lane|ln|"
                      r"drive|dr|boulevard|blvd|way|court|ct|place|pl|square|sq|close|crescent|terrace|"
                      r"rue|chemin|allée|calle|avenida|plaza|strasse|straße)\b\.?")
# Identifiers: letters and digits mixed, 6+ characters (IDs, policy, passport, employee or account numbers).
_IDENT = re.compile(r"(?<![\w@])(?=[A-Za-z0-9-]*\d)(?=[A-Za-z0-9-]*[A-Za-z])[A-Za-z0-9][A-Za-z0-9-]{5,}(?![\w@])")
# Names a participant gives in the chat: "my name is Ana Lima", "I'm Tom", "call me Jo", "je m'appelle Léa".
# Over-redaction ("I'm English" -> "I'm [name]") only costs the model a word; a name sent costs the participant.
_SAYS_NAME = re.compile(r"(?i:\b(?:my name is|my name's|i am|i'm|call me|je m'appelle|me llamo)\s+)"
                        r"([A-ZÀ-Ý][\w'’-]+(?:\s+[A-ZÀ-Ý][\w'’-]+)?)")


def names_said(text: str) -> list[str]:
    """Names the text gives for its writer ("my name is Ana Lima" -> "Ana Lima"; capitalised words only)."""
    return [m.group(1) for m in _SAYS_NAME.finditer(text)]


def redact(text: str, names: list[str] = ()) -> str:
    """Replace emails, phone numbers, links, street addresses, identifiers, the given names and names the text
    gives for its writer with placeholders ([email], [phone], [link], [address], [id], [name])."""
    names = list(names) + names_said(text)
    names += [part for n in names for part in str(n).split() if len(part) >= 3]   # "Ana" of "Ana Lima" too
    text = _EMAIL.sub("[email]", text)
    text = _URL.sub("[link]", text)
    text = _ADDRESS.sub("[address]", text)
    text = _PHONE.sub(lambda m: "[phone]" if sum(c.isdigit() for c in m.group()) >= 7 else m.group(), text)
    text = _IDENT.sub("[id]", text)
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
    insert_audit(db, None, "participant.delete", "session", participant.session_id,
                       {"participant": participant.number})
