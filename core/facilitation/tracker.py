"""The step tracker: decides, without any model, whether to probe, move on, or close."""

from __future__ import annotations

import re

from core.facilitation.protocol import Action, TurnPlan
from core.guide import Step
from core.i18n import phrase
from core.text import word_count

THIN_ANSWER_WORDS = 8


def is_skip(text: str, language: str) -> bool:
    """True when the whole message means "skip" / "I don't know" (in the session language or English)."""
    normalised = re.sub(r"[^\w\s'/]", "", text.lower().replace("’", "'")).strip()
    words = phrase(language, "skip_words") + "|" + phrase("en", "skip_words")
    return re.fullmatch(rf"(?:{words})(?:\s+(?:sorry|really|thanks|merci|gracias))*", normalised) is not None


def is_thin(text: str) -> bool:
    return word_count(text) < THIN_ANSWER_WORDS


def plan_after_answer(steps: list[Step], step: int, probed: bool, kind: str, text: str,
                      participant_turns: int, max_turns: int) -> TurnPlan:
    """What follows a participant message of `kind` ('answer' or 'skip') at `step`."""
    if participant_turns >= max_turns:
        return TurnPlan(Action.CLOSE, step, "limit")
    if kind == "answer" and not probed and steps[step].probe and is_thin(text):
        return TurnPlan(Action.PROBE, step, "answer")
    if step + 1 >= len(steps):
        return TurnPlan(Action.CLOSE, step, kind)
    return TurnPlan(Action.ASK, step + 1, kind)
