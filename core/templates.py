"""Session templates shipped as JSON files in data/templates/."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from core.brief import Brief
from core.config import TEMPLATES_DIR
from core.forms import FormField
from core.guide import Step


@dataclass(frozen=True)
class Template:
    key: str
    name: str
    description: str
    brief: Brief
    form: list[FormField]
    guide: list[Step]


def _load(path: Path) -> Template:
    data = json.loads(path.read_text(encoding="utf-8"))
    return Template(
        key=data["key"],
        name=data["name"],
        description=data["description"],
        brief=Brief(data["name"], data["objective"], list(data["critical_items"]), data.get("context", "")),
        form=[FormField.from_dict(f) for f in data.get("form", [])],
        guide=[Step.from_dict(s) for s in data["guide"]],
    )


@lru_cache(maxsize=4)
def load_templates(folder: Path = TEMPLATES_DIR) -> dict[str, Template]:
    """All templates by key, in name order."""
    templates = [_load(p) for p in sorted(folder.glob("*.json"))]
    return {t.key: t for t in sorted(templates, key=lambda t: t.name)}


def get_template(key: str) -> Template | None:
    return load_templates().get(key)
