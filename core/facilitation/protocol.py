"""The one interface for "the next facilitator turn", shared by the offline and the model facilitator."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Iterator, Protocol

from core.guide import Step


class Action(str, Enum):
    ASK = "ask"          # ask the question of `plan.step` (the first one, or the next after an answer)
    PROBE = "probe"      # one follow-up on the current step, after a thin answer
    CLOSE = "close"      # recap and thank-you; the conversation ends


@dataclass(frozen=True)
class TurnPlan:
    action: Action
    step: int
    after: str = "start"   # what the participant just did: start | answer | skip | finish | limit


@dataclass(frozen=True)
class Turn:
    role: str
    kind: str
    step: int
    content: str


@dataclass(frozen=True)
class TurnContext:
    """Everything a facilitator may see: this participant's conversation only."""

    session_name: str
    language: str
    objective: str
    steps: list[Step]
    plan: TurnPlan
    history: list[Turn]
    shared_form: dict[str, str] = field(default_factory=dict)  # only fields the creator marked shareable
    session_id: str = ""       # for the call log; never sent to a model
    participant_id: str = ""


class Facilitator(Protocol):
    """Offline or model: `modes.facilitator()` always returns one; `conversation.respond` drives it."""

    source: str            # recorded on each message it writes: "offline" or "model"
    retries: int           # further tries of a failed turn before the offline wording takes over
    retry_delay_s: float   # wait before a retry, times the attempt number

    def reply(self, ctx: TurnContext) -> str: ...

    def stream(self, ctx: TurnContext) -> Iterator[str]: ...
