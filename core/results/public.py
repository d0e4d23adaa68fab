"""Results for those without a membership: visitors of a public link and participants of the session, when the
owner shared the results with them. Each checks its own access (the link's token, the participant's token) and
shows the audience-safe view (core.audience)."""

from __future__ import annotations

from dataclasses import dataclass

from core.db import Database
from core.permissions import AccessDenied
from core.repos import participants as prepo
from core.repos import sessions as srepo
from core.repos.sessions import SessionRow
from core.results.synthesis import SynthesisView, synthesis_view


@dataclass(frozen=True)
class PublicResults:
    session: SessionRow
    sections: list[str]
    view: "SynthesisView | None"
    transcripts: list[tuple[int, list[prepo.Message]]]   # (participant number, messages), when shared
    withheld: tuple[str, ...] = ()      # sections of the link not shown: participants' words are not allowed


def public_view(db: Database, token: str | None) -> PublicResults:
    """What a live public link shows (only its sections), as the audience-safe view (core.audience): no verbatim
    words unless the owner allowed quotes, and then only from themes of k+ people (and only with the Quotes
    section); transcripts only when quotes are allowed. AccessDenied when the link is unknown or revoked."""
    from core.audience import QuotePolicy, audience_view
    from core.sharing import open_public_link

    link = open_public_link(db, token)
    session = srepo.get_session(db, link.session_id)
    policy = QuotePolicy.of(session)
    transcripts, withheld = [], []
    if not policy.allow:
        withheld = [s for s in ("quotes", "transcripts") if s in link.sections]
    elif "transcripts" in link.sections:
        transcripts = [(p.number, prepo.list_messages(db, p.id)) for p in prepo.list_participants(db, session.id)
                       if p.included and not p.simulated]
    view = synthesis_view(db, session)
    if view is not None:
        view = audience_view(view, policy, quotes="quotes" in link.sections)
    return PublicResults(session, link.sections, view, transcripts, tuple(withheld))


def participant_view(db: Database, token: str | None) -> SynthesisView | None:
    """Summary and themes for a participant of the session, when the owner opened results to participants: the
    audience-safe view (core.audience), with no other participant's words unless the owner allowed quotes, and
    then only from themes raised by at least k people."""
    from core.audience import QuotePolicy, audience_view

    participant = prepo.get_by_token(db, token) if token else None
    session = srepo.get_session(db, participant.session_id) if participant else None
    if session is None or session.visibility not in ("participants", "public"):
        raise AccessDenied("The organisers have not shared the results with participants.")
    view = synthesis_view(db, session)
    return audience_view(view, QuotePolicy.of(session)) if view is not None else None
