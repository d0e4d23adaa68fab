"""The facilitation guide: ordered steps, each a question, an optional probe and the critical item it serves."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Any

from core.brief import Brief
from core.i18n import phrase, phrase_list

QUESTION_MAX = 600
MAX_STEPS = 25


@dataclass
class Step:
    question: str
    probe: str = ""
    critical_item: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Step":
        item = data.get("critical_item")
        return cls(
            question=str(data.get("question") or "").strip(),
            probe=str(data.get("probe") or "").strip(),
            critical_item=(str(item).strip() or None) if item else None,
        )


def generate_offline_guide(brief: Brief, language: str = "en", current: list[Step] | None = None) -> list[Step]:
    """Rules and templates: one step per critical item, then an open closing step. A step of `current` (the guide
    being regenerated) that covers an item is kept as written, and so are its closing steps: regenerating after
    the brief changed adds and drops items without rewriting a template's or a person's questions."""
    kept = {s.critical_item: s for s in current or [] if s.critical_item}
    probes = phrase_list(language, "probe")
    steps = []
    for i, item in enumerate(brief.critical_items):
        if item in kept:
            steps.append(kept[item])
            continue
        steps.append(Step(question=item_question(item, i, language, brief), probe=probes[i % len(probes)],
                          critical_item=item))
    closing = [s for s in current or [] if not s.critical_item]
    return steps + (closing or [Step(phrase(language, "closing_step"), phrase(language, "closing_probe"), None)])


def item_question(item: str, index: int, language: str, brief: Brief) -> str:
    """The question for a critical item: the item itself when it is already a question ("What went well" → "What
    went well?"), else a template around the brief's words, varied by position."""
    text = item.strip().rstrip(".!:;")
    first = re.split(r"[\s'’]", text.lower(), maxsplit=1)[0]
    if text.endswith(("?", "？")):
        return text
    if re.fullmatch(phrase(language, "question_words"), first) or text.lower().startswith(("qu'", "qu’", "est-ce")):
        return f"{text} ?" if language == "fr" else f"¿{text}?" if language == "es" else f"{text}?"
    templates = phrase_list(language, "item_question")
    return templates[min(index, len(templates) - 1)].format(item=_in_sentence(text, brief) if language == "en"
                                                            else text)


def _in_sentence(item: str, brief: Brief) -> str:
    """'Budget constraints' -> 'budget constraints' inside a sentence; 'OKRs', 'Paris office' (its first word is
    capitalised mid-sentence somewhere in the brief: a name) and 'iOS' keep their case."""
    word = item.split()[0] if item.split() else ""
    if not (word[:1].isupper() and word[1:].islower()):
        return item
    text = " ".join([brief.name, brief.objective, brief.context])   # items all start their line
    if re.search(rf"(?<![.!?:;\n]\s)(?<=\s){re.escape(word)}\b", text):
        return item     # capitalised where a sentence does not start: a proper noun
    return item[0].lower() + item[1:]


def validate_guide(steps: list[Step], critical_items: list[str]) -> tuple[list[str], list[str]]:
    """(errors, warnings): errors block saving; warnings name critical items no step covers."""
    errors: list[str] = []
    if not steps:
        errors.append("The guide needs at least one step.")
    if len(steps) > MAX_STEPS:
        errors.append(f"At most {MAX_STEPS} steps, please.")
    for i, s in enumerate(steps, start=1):
        if not s.question.strip():
            errors.append(f"Step {i}: the question is empty.")
        elif len(s.question) > QUESTION_MAX:
            errors.append(f"Step {i}: the question is longer than {QUESTION_MAX} characters.")
        if len(s.probe) > QUESTION_MAX:
            errors.append(f"Step {i}: the probe is longer than {QUESTION_MAX} characters.")
        if s.critical_item and s.critical_item not in critical_items:
            errors.append(f"Step {i}: '{s.critical_item}' is not one of the session's critical items.")
    covered = {s.critical_item for s in steps}
    warnings = [f"No step covers the critical item '{item}'." for item in critical_items if item not in covered]
    return errors, warnings
