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
