"""Guide generation and refinement by the model, each result a new saved guide version (source "model")."""

from __future__ import annotations

import json
from typing import Literal, Optional

from pydantic import BaseModel, Field, create_model

from core.db import Database
from core.guide import MAX_STEPS, QUESTION_MAX, Step, validate_guide
from core.i18n import LANGUAGES
from core.llm.protocol import ChatMessage, TextModel
from core.llm.scope import call_scope
from core.permissions import Permission
from core.repos import guide_summaries
from core.repos import sessions as srepo
from core.repos.sessions import SessionRow
from core.repos.users import User
from core.sessions import InvalidInput, get_for

PROMPT_VERSION = "guide-v1"
INSTRUCTION_MAX = 1000
SUMMARY_MAX = 600

SYSTEM = (
    "You design facilitation guides for one-to-one conversational surveys. A guide is an ordered list of steps; "
    "each step is one open, neutral question (never two questions in one), a short follow-up probe used when an "
    "answer is thin, and the critical item it serves. Avoid leading or yes/no questions and jargon. "
    "Reply with a JSON object matching the given schema and nothing else."
)


def guide_schema(critical_items: list[str]) -> type[BaseModel]:
    """The reply schema; `critical_item` is an enum of the session's items so a wrong one is repaired."""
    # a Literal built at run time: fine for pydantic, not for static checkers (hence the ignore)
    item_type = Optional[Literal[tuple(critical_items)]] if critical_items else Optional[str]  # type: ignore
    step = create_model(
        "GuideStep",
        question=(str, Field(min_length=3, max_length=QUESTION_MAX, description="one open question")),
        probe=(str, Field("", max_length=QUESTION_MAX, description="one short follow-up for a thin answer")),
        critical_item=(item_type, Field(None, description="the critical item this step serves; null for the "
                                                          "open closing step")),
    )
    return create_model(
        "FacilitationGuide",
        steps=(list[step], Field(min_length=1, max_length=MAX_STEPS)),  # type: ignore[valid-type]
        participant_summary=(str, Field(min_length=1, max_length=SUMMARY_MAX,
                                        description="2-3 sentences telling participants what the conversation "
                                                    "covers, addressed to them")),
    )


def _brief_text(session: SessionRow) -> str:
    items = "\n".join(f"- {i}" for i in session.critical_items)
    language = LANGUAGES.get(session.language, session.language)
    context = f"\nContext: {session.context}" if session.context else ""
    return (f"Session name: {session.name}\nObjective: {session.objective}\nCritical items to gather:\n{items}"
            f"{context}\nLanguage of the questions and the summary: {language}")


def generation_messages(session: SessionRow) -> list[ChatMessage]:
    user = (_brief_text(session) + "\n\nWrite the guide: at least one step per critical item, in a natural order, "
            "then an open closing step (critical_item null) asking whether they want to add anything. "
            "Also write the participant_summary.")
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": user}]


def refinement_messages(session: SessionRow, steps: list[Step], instruction: str) -> list[ChatMessage]:
    current = json.dumps([s.to_dict() for s in steps], ensure_ascii=False, indent=1)
    user = (_brief_text(session) + f"\n\nThe current guide:\n{current}\n\nThe organiser asks for this change, in "
            f"their words: {instruction}\n\nRewrite the guide with that change and keep everything the request "
            "does not ask to change. Also write the participant_summary.")
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": user}]


def _to_steps(reply: BaseModel) -> tuple[list[Step], str]:
    steps = [Step(s.question.strip(), (s.probe or "").strip(), s.critical_item or None) for s in reply.steps]
    return steps, reply.participant_summary.strip()


def _save(db: Database, session: SessionRow, steps: list[Step], summary: str, note: str) -> int:
    errors, _warnings = validate_guide(steps, session.critical_items)
    if errors:  # the schema already bounds lengths and items; this is the last guard before saving
        raise InvalidInput(errors)
    version = srepo.add_guide_version(db, session.id, steps, note[:200], "model")
    guide_summaries.save_summary(db, session.id, version, summary)
    return version


def generate_guide_version(db: Database, user: User, session_id: str, model: TextModel) -> int:
    """Ask the model for a guide from the brief and save it as a new version; LLMError on failure."""
    session = get_for(db, user, session_id, Permission.EDIT)
    with call_scope(session.id):
        reply = model.structured(generation_messages(session), guide_schema(session.critical_items),
                                 purpose="generation.guide", prompt_version=PROMPT_VERSION)
    steps, summary = _to_steps(reply)
    return _save(db, session, steps, summary, "generated by the model from the brief")


def refine_guide_version(db: Database, user: User, session_id: str, instruction: str, model: TextModel) -> int:
    """Apply a plain-words change ("ask about budget first") to the current guide, as a new version."""
    session = get_for(db, user, session_id, Permission.EDIT)
    instruction = " ".join(instruction.split())
    if not instruction:
        raise InvalidInput(["Say in a few words what to change, e.g. \u201cmake it warmer\u201d."])
    if len(instruction) > INSTRUCTION_MAX:
        raise InvalidInput([f"Keep the request under {INSTRUCTION_MAX} characters."])
    current = srepo.get_guide_version(db, session.id, session.guide_version) if session.guide_version else None
    with call_scope(session.id):
        reply = model.structured(refinement_messages(session, current.steps if current else [], instruction),
                                 guide_schema(session.critical_items), purpose="generation.refine",
                                 prompt_version=PROMPT_VERSION)
    steps, summary = _to_steps(reply)
    return _save(db, session, steps, summary, f"refined by the model: {instruction}")


def from_template(db: Database, session: SessionRow) -> bool:
    """True when the session's current guide is a template's own, written by people."""
    guide = srepo.get_guide_version(db, session.id, session.guide_version) if session.guide_version else None
    return guide is not None and guide.source == "template"


def guide_summary(db: Database, session_id: str, version: int | None) -> str:
    """The participant-facing summary for a guide version ('' when the model wrote none)."""
    return guide_summaries.summary_for(db, session_id, version)
