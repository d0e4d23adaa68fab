"""Simulated participants, to test a session's design before (or while) real people take part.

Personas are written by the model in model mode, or taken from a scripted offline set. Each simulated
participant fills the form, then talks with the facilitator (model or offline) until the step tracker
closes the conversation. They are stored with `participants.simulated = TRUE`, which results and synthesis
leave out by default.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from dataclasses import dataclass

from pydantic import BaseModel, Field

from core import conversation
from core.db import Database
from core.facilitation.offline import OfflineFacilitator
from core.facilitation.protocol import Facilitator
from core.forms import FormField, validate_answers
from core.i18n import LANGUAGES
from core.llm import LLMError
from core.llm.protocol import ChatMessage, TextModel
from core.llm.scope import call_scope
from core.permissions import Permission
from core.repos import participants as prepo
from core.repos import sessions as srepo
from core.sessions import InvalidInput, get_for

log = logging.getLogger(__name__)
MAX_SIMULATED = 50
MAX_TURNS_PER_PARTICIPANT = 60  # a guard: the step tracker ends every conversation well before this
PROMPT_VERSION = "simulation-v1"


@dataclass(frozen=True)
class Persona:
    name: str
    description: str
    style: str = "full"  # full | thin | skipper (offline answers only)


OFFLINE_PERSONAS = [
    Persona("Enthusiast", "positive and detailed", "full"),
    Persona("Sceptic", "critical, points at problems", "full"),
    Persona("Brief", "answers in a few words", "thin"),
    Persona("Skipper", "skips some questions", "skipper"),
    Persona("Pragmatist", "practical, gives examples", "full"),
]
_OPENERS = {
    "Enthusiast": ["I really like how {topic} works for us.", "{Topic} has been a good surprise overall."],
    "Sceptic": ["Honestly, {topic} has been a problem for me.", "I am not convinced about {topic} so far."],
    "Pragmatist": ["For {topic}, what matters to me is what works day to day.",
                   "On {topic}, I look at it in practical terms."],
}
_DETAILS = ["For example, last month it took us two extra days to sort things out.",
            "It would help to have one clear owner and a simple checklist.",
            "Most people I work with feel the same, as far as I can tell.",
            "The main issue is time: there is never enough of it at the end.",
            "When it works, it saves everyone a lot of back and forth."]
_THIN = ["Not much to say.", "It was fine.", "Hard to say.", "Okay I guess."]


class _PersonaOut(BaseModel):
    name: str = Field(min_length=1, max_length=60)
    description: str = Field(min_length=1, max_length=300)


class _Personas(BaseModel):
    personas: list[_PersonaOut] = Field(min_length=1, max_length=MAX_SIMULATED)


@dataclass(frozen=True)
class SimulationResult:
    participant_ids: list[str]
    personas: str        # "model" or "offline": who wrote the personas and answers
    facilitator: str     # the source of the facilitator's messages: "model" or "offline"


def offline_answer(persona: Persona, topic: str, turn: int, rng: random.Random) -> str:
    """A scripted answer for the persona (deterministic for a given rng)."""
    if persona.style == "thin":
        return rng.choice(_THIN)
    if persona.style == "skipper" and turn % 2 == 1:
        return "I don't know"
    openers = _OPENERS.get(persona.name, _OPENERS["Pragmatist"])
    opener = rng.choice(openers).format(topic=topic, Topic=topic[:1].upper() + topic[1:])
    return f"{opener} {rng.choice(_DETAILS)} {rng.choice(_DETAILS)}"


def simulated_form_answers(fields: list[FormField], number: int) -> dict[str, object]:
    """Valid, obviously fake answers for the pre-session form."""
    answers: dict[str, object] = {}
    for f in fields:
        if f.type in ("single_choice", "multiple_choice"):
            choice = f.options[number % len(f.options)] if f.options else ""
            answers[f.key] = [choice] if f.type == "multiple_choice" else choice
        elif f.type == "number":
            low = f.min if f.min is not None else 0
            high = f.max if f.max is not None else low + 10
            answers[f.key] = str(int(low + (number % max(1, int(high - low) + 1))))
        elif f.type == "consent":
            answers[f.key] = True
        elif f.type == "email":
            answers[f.key] = f"simulated-{number}@example.invalid"
        else:
            answers[f.key] = f"Simulated participant {number}"
    return answers


def model_personas(model: TextModel, session, n: int) -> list[Persona]:
    """N varied personas written by the model for this session's audience."""
    language = LANGUAGES.get(session.language, session.language)
    messages: list[ChatMessage] = [
        {"role": "system", "content": "You write short, varied, realistic personas for testing a survey. "
                                      "Reply with JSON matching the schema."},
        {"role": "user", "content": f"Survey: {session.name}\nObjective: {session.objective}\nTopics: "
                                    f"{', '.join(session.critical_items)}\nWrite {n} personas of people who "
                                    f"might take this survey, in {language}: varied in attitude, detail and "
                                    "experience. A name and one or two sentences each."},
    ]
    reply = model.structured(messages, _Personas, purpose="generation.personas", prompt_version=PROMPT_VERSION)
    found = [Persona(p.name, p.description, "full") for p in reply.personas]
    return [found[i % len(found)] for i in range(n)]


def model_answer(model: TextModel, persona: Persona, session, history: list[prepo.Message]) -> str:
    """The persona's next message, written by the model from this simulated conversation only."""
    language = LANGUAGES.get(session.language, session.language)
    messages: list[ChatMessage] = [{"role": "system", "content": (
        f"You are role-playing a survey participant: {persona.name}, {persona.description}. Answer the "
        f"facilitator's last message in {language}, in character, in one to four sentences. Sometimes be vague, "
        "sometimes give an example. Write only the participant's message.")}]
    # roles are mirrored: to the role-playing model, the facilitator is the "user"
    for m in history[-8:]:
        messages.append({"role": "user" if m.role == "facilitator" else "assistant", "content": m.content})
    return model.complete(messages, purpose="generation.simulated_answer", prompt_version=PROMPT_VERSION).strip()


def run_simulation(db: Database, user, session_id: str, n: int, *, model: TextModel | None = None,
                   facilitator: Facilitator | None = None,
                   on_progress: Callable[[int, int, str], None] | None = None, seed: int = 0) -> SimulationResult:
    """Run `n` simulated participants through a draft or launched session; returns their ids."""
    facilitator = facilitator or OfflineFacilitator()
    session = get_for(db, user, session_id, Permission.EDIT)
    if not 1 <= n <= MAX_SIMULATED:
        raise InvalidInput([f"Run between 1 and {MAX_SIMULATED} simulated participants."])
    if session.status == "closed":
        raise InvalidInput(["The session is closed: reopen it to run simulated participants."])
    if not session.guide_version:
        raise InvalidInput(["Save a facilitation guide first."])
    personas, persona_source = OFFLINE_PERSONAS, "offline"
    if model is not None:
        try:
            with call_scope(session.id):
                personas, persona_source = model_personas(model, session, n), "model"
        except LLMError as exc:  # the run still happens, with scripted personas
            log.warning("persona generation failed, using scripted personas: %s", exc)
    fields = srepo.get_form(db, session.id)
    rng = random.Random(seed)
    ids: list[str] = []
    for i in range(n):
        persona = personas[i % len(personas)]
        number = len(prepo.list_participants(db, session.id)) + 1
        clean, errors = validate_answers(fields, simulated_form_answers(fields, number))
        if errors:
            raise InvalidInput({k: f"simulated answer rejected: {v}" for k, v in errors.items()})
        p = prepo.insert_participant(db, session.id, session.guide_version, "chatting", simulated=True,
                                     answers=clean)
        _converse(db, session, p.token, persona, persona_source == "model", model, facilitator, rng)
        ids.append(p.id)
        if on_progress:
            on_progress(i + 1, n, persona.name)
    return SimulationResult(ids, persona_source, facilitator.source)


def _converse(db: Database, session, token: str, persona: Persona, use_model: bool, model: TextModel | None,
              facilitator: Facilitator, rng: random.Random) -> None:
    conversation.respond(db, token, facilitator)  # the opening question
    for turn in range(MAX_TURNS_PER_PARTICIPANT):
        chat = conversation.load_chat(db, token)
        if chat.finished:
            return
        step = chat.steps[min(chat.participant.step, len(chat.steps) - 1)]
        text = ""
        if use_model and model is not None:
            try:
                with call_scope(session.id, chat.participant.id):
                    text = model_answer(model, persona, session, chat.messages)
            except LLMError as exc:  # one failed answer must not stop the run
                log.warning("simulated answer failed, using a scripted one: %s", exc)
        if not text:
            topic = step.critical_item or "this"
            text = offline_answer(persona, topic[:1].lower() + topic[1:], turn, rng)
        result = conversation.send(db, token, text[:3000], facilitator)
        if result.error:  # e.g. an empty model answer after cleaning: skip instead
            conversation.record_skip(db, token)
            conversation.respond(db, token, facilitator)
    conversation.finish(db, token, facilitator)
