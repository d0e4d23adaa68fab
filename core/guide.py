"""The facilitation guide: ordered steps, each a question, an optional probe and the critical item it serves."""

from __future__ import annotations

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


def generate_offline_guide(brief: Brief, language: str = "en") -> list[Step]:
    """Rules and templates: one step per critical item, then an open closing step."""
    intros = phrase_list(language, "question_intro")
    probes = phrase_list(language, "probe")
    steps = []
    for i, item in enumerate(brief.critical_items):
        intro = intros[min(i, len(intros) - 1)].format(item=_in_sentence(item))
        question = f"{intro} {phrase(language, 'question')}"
        steps.append(Step(question=question, probe=probes[i % len(probes)], critical_item=item))
    steps.append(Step(phrase(language, "closing_step"), phrase(language, "closing_probe"), None))
    return steps


def _in_sentence(item: str) -> str:
    """'Budget constraints.' -> 'budget constraints' (acronyms such as 'OKRs' keep their case)."""
    item = item.strip().rstrip(".?!:")
    if item[:1].isupper() and item[1:2].islower():
        item = item[0].lower() + item[1:]
    return item


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
