"""The session brief a creator writes: name, objective, critical items, context."""

from __future__ import annotations

from dataclasses import dataclass, field

NAME_MIN, NAME_MAX = 3, 120
OBJECTIVE_MIN, OBJECTIVE_MAX = 10, 2000
ITEM_MAX, ITEMS_MAX = 200, 15
CONTEXT_MAX = 4000


@dataclass
class Brief:
    name: str
    objective: str
    critical_items: list[str] = field(default_factory=list)
    context: str = ""


def parse_items(text: str) -> list[str]:
    """One critical item per line; bullets and blank lines are ignored."""
    items = []
    for line in (text or "").splitlines():
        item = line.strip().lstrip("-*•").strip()
        if item and item not in items:
            items.append(item)
    return items


def validate_brief(brief: Brief) -> dict[str, str]:
    """Field name -> message, for inline errors; empty when the brief is valid."""
    errors: dict[str, str] = {}
    name = brief.name.strip()
    if not NAME_MIN <= len(name) <= NAME_MAX:
        errors["name"] = f"The name must be {NAME_MIN} to {NAME_MAX} characters (now {len(name)})."
    objective = brief.objective.strip()
    if len(objective) < OBJECTIVE_MIN:
        errors["objective"] = f"Describe the objective in at least {OBJECTIVE_MIN} characters."
    elif len(objective) > OBJECTIVE_MAX:
        errors["objective"] = f"Keep the objective under {OBJECTIVE_MAX} characters."
    if not brief.critical_items:
        errors["critical_items"] = "List at least one thing that is critical to gather, one per line."
    elif len(brief.critical_items) > ITEMS_MAX:
        errors["critical_items"] = f"At most {ITEMS_MAX} critical items, please."
    elif any(len(i) > ITEM_MAX for i in brief.critical_items):
        errors["critical_items"] = f"Each critical item must be under {ITEM_MAX} characters."
    if len(brief.context) > CONTEXT_MAX:
        errors["context"] = f"Keep the context under {CONTEXT_MAX} characters."
    return errors
