"""The pre-session form: field definitions, checking a definition, and checking a participant's answers."""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from typing import Any

FIELD_TYPES: dict[str, str] = {
    "short_text": "Short text",
    "long_text": "Long text",
    "email": "Email",
    "number": "Number",
    "single_choice": "Single choice",
    "multiple_choice": "Multiple choice",
    "consent": "Consent checkbox",
}
CHOICE_TYPES = {"single_choice", "multiple_choice"}
SHORT_TEXT_MAX = 200
LONG_TEXT_MAX = 4000
LABEL_MAX = 200
MAX_FIELDS = 30
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_KEY = re.compile(r"[^a-z0-9]+")


@dataclass
class FormField:
    key: str
    label: str
    type: str
    required: bool = False
    options: list[str] = field(default_factory=list)
    min: float | None = None
    max: float | None = None
    # whether the model facilitator may see this answer; off by default (names and emails stay private)
    share_with_model: bool = False
    # identifying answers (names, emails) are shown to owners and editors only
    identifying: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "FormField":
        return cls(
            key=str(data.get("key") or ""),
            label=str(data.get("label") or ""),
            type=str(data.get("type") or ""),
            required=bool(data.get("required", False)),
            options=[str(o) for o in (data.get("options") or [])],
            min=data.get("min"),
            max=data.get("max"),
            share_with_model=bool(data.get("share_with_model", False)),
            identifying=bool(data.get("identifying", data.get("type") == "email")),
        )


def key_from_label(label: str, taken: set[str]) -> str:
    """A snake_case key for a new field, unique among `taken`."""
    base = _KEY.sub("_", label.lower()).strip("_")[:40] or "field"
    key, n = base, 2
    while key in taken:
        key, n = f"{base}_{n}", n + 1
    return key


def validate_definition(fields: list[FormField]) -> list[str]:
    """Problems with a form definition, each naming the field; empty when it is valid."""
    errors: list[str] = []
    if len(fields) > MAX_FIELDS:
        errors.append(f"A form can have at most {MAX_FIELDS} fields.")
    seen_keys: set[str] = set()
    for i, f in enumerate(fields, start=1):
        name = f"Field {i} ({f.label.strip() or 'no label'})"
        if not f.label.strip():
            errors.append(f"Field {i}: the label is empty.")
        elif len(f.label) > LABEL_MAX:
            errors.append(f"{name}: the label is longer than {LABEL_MAX} characters.")
        if f.type not in FIELD_TYPES:
            errors.append(f"{name}: unknown field type '{f.type}'.")
        if not f.key or f.key in seen_keys:
            errors.append(f"{name}: the field key is missing or used twice.")
        seen_keys.add(f.key)
        if f.type in CHOICE_TYPES:
            options = [o.strip() for o in f.options if o.strip()]
            if len(set(options)) < 2:
                errors.append(f"{name}: a choice field needs at least 2 distinct options.")
            elif len(set(options)) != len(options):
                errors.append(f"{name}: options must be distinct.")
        elif f.options:
            errors.append(f"{name}: only choice fields have options.")
        if f.type == "number":
            if f.min is not None and f.max is not None and f.min > f.max:
                errors.append(f"{name}: the minimum is greater than the maximum.")
        elif f.min is not None or f.max is not None:
            errors.append(f"{name}: only number fields have a minimum or maximum.")
    return errors


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value is False


def validate_answers(fields: list[FormField], answers: dict[str, Any]) -> tuple[dict[str, str], dict[str, str]]:
    """Check answers against the form.

    Returns (clean, errors): `clean` maps field key to the stored text value (JSON list for multiple
    choice), `errors` maps field key to a message to show next to that field.
    """
    clean: dict[str, str] = {}
    errors: dict[str, str] = {}
    for f in fields:
        value = answers.get(f.key)
        if isinstance(value, str):
            value = value.strip()
        if _empty(value):
            if f.required:
                errors[f.key] = "Please tick the box to continue." if f.type == "consent" else "This field is required."
            continue
        error, stored = _check_value(f, value)
        if error:
            errors[f.key] = error
        else:
            clean[f.key] = stored
    return clean, errors


def _check_value(f: FormField, value: Any) -> tuple[str | None, str]:
    if f.type in ("short_text", "long_text"):
        limit = SHORT_TEXT_MAX if f.type == "short_text" else LONG_TEXT_MAX
        text = str(value)
        if len(text) > limit:
            return f"Please keep this under {limit} characters (now {len(text)}).", ""
        return None, text
    if f.type == "email":
        text = str(value)
        if len(text) > 254 or not _EMAIL.match(text):
            return "Please enter a valid email address, like name@example.org.", ""
        return None, text
    if f.type == "number":
        try:
            number = float(str(value).replace(",", "."))
        except ValueError:
            return "Please enter a number.", ""
        if number != number or number in (float("inf"), float("-inf")):
            return "Please enter a number.", ""
        if f.min is not None and number < f.min:
            return f"Please enter a number of at least {_fmt(f.min)}.", ""
        if f.max is not None and number > f.max:
            return f"Please enter a number of at most {_fmt(f.max)}.", ""
        return None, _fmt(number)
    if f.type == "single_choice":
        if str(value) not in f.options:
            return "Please choose one of the options.", ""
        return None, str(value)
    if f.type == "multiple_choice":
        values = list(value) if isinstance(value, (list, tuple, set)) else [value]   # one value as one choice
        if any(str(v) not in f.options for v in values):
            return "Please choose among the options.", ""
        return None, json.dumps([str(v) for v in values])
    if f.type == "consent":
        return None, "yes"
    return f"Unknown field type '{f.type}'.", ""


def _fmt(number: float) -> str:
    return str(int(number)) if float(number).is_integer() else str(number)
