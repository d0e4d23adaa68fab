"""What the design page's editors edit, and its conversion back to guide steps and form fields: plain items (dicts)
for the form-style cards (ui/cards.py), tables for the advanced st.data_editor view (rows reordered by their
"order" numbers). No Streamlit here, so the conversions are unit-tested.
"""

from __future__ import annotations

import pandas as pd

from core.forms import CHOICE_TYPES, FormField, key_from_label
from core.guide import Step

GUIDE_COLUMNS = ["order", "question", "probe", "critical_item"]
FORM_COLUMNS = ["order", "label", "type", "required", "options", "min", "max", "share_with_model", "identifying",
                "key"]


def guide_frame(steps: list[Step]) -> pd.DataFrame:
    return pd.DataFrame(
        [{"order": i + 1, "question": s.question, "probe": s.probe, "critical_item": s.critical_item or ""}
         for i, s in enumerate(steps)], columns=GUIDE_COLUMNS)


def _ordered(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows by their order number; new rows without one go last, in the order they were added."""
    return frame.assign(order=frame["order"].fillna(len(frame) + 1)).sort_values("order", kind="stable")


def _text(value) -> str:
    return "" if value is None or (isinstance(value, float) and pd.isna(value)) else str(value).strip()


def _flag(value) -> bool:
    return bool(value) if value is not None and not (isinstance(value, float) and pd.isna(value)) else False


def steps_from_frame(frame: pd.DataFrame) -> list[Step]:
    return [Step(_text(r.question), _text(r.probe), _text(r.critical_item) or None)
            for r in _ordered(frame).itertuples()]


def form_frame(fields: list[FormField]) -> pd.DataFrame:
    return pd.DataFrame(
        [{"order": i + 1, "label": f.label, "type": f.type, "required": f.required, "options": "; ".join(f.options),
          "min": f.min, "max": f.max, "share_with_model": f.share_with_model, "identifying": f.identifying,
          "key": f.key} for i, f in enumerate(fields)], columns=FORM_COLUMNS)


def fields_from_frame(frame: pd.DataFrame) -> list[FormField]:
    """Fields in display order; existing rows keep their key (so stored answers stay attached)."""
    fields: list[FormField] = []
    taken: set[str] = set()
    for r in _ordered(frame).itertuples():
        label = _text(r.label)
        key = _text(r.key)
        if not key or key in taken:
            key = key_from_label(label, taken)
        taken.add(key)
        fields.append(FormField(
            key, label, _text(r.type), _flag(r.required), [o.strip() for o in _text(r.options).split(";") if o.strip()],
            None if pd.isna(r.min) else float(r.min), None if pd.isna(r.max) else float(r.max),
            share_with_model=_flag(r.share_with_model), identifying=_flag(r.identifying)))
    return fields


def step_items(steps: list[Step]) -> list[dict]:
    return [{"question": s.question, "probe": s.probe, "critical_item": s.critical_item or ""} for s in steps]


def steps_from_items(items: list[dict]) -> list[Step]:
    return [Step(_text(i["question"]), _text(i["probe"]), _text(i["critical_item"]) or None) for i in items]


def field_items(fields: list[FormField]) -> list[dict]:
    return [{"key": f.key, "label": f.label, "type": f.type, "required": f.required, "options": "\n".join(f.options),
             "min": f.min, "max": f.max, "share_with_model": f.share_with_model, "identifying": f.identifying}
            for f in fields]


def fields_from_items(items: list[dict]) -> list[FormField]:
    """Fields in the cards' order; an existing field keeps its key (stored answers stay attached). Options and
    limits a field's type does not use are dropped (a field changed from choice to text keeps no options)."""
    fields: list[FormField] = []
    taken: set[str] = set()
    for i in items:
        label, kind = _text(i["label"]), _text(i["type"])
        key = _text(i["key"])
        if not key or key in taken:
            key = key_from_label(label, taken)
        taken.add(key)
        options = [o.strip() for o in _text(i["options"]).splitlines() if o.strip()] if kind in CHOICE_TYPES else []
        number = kind == "number"
        fields.append(FormField(key, label, kind, _flag(i["required"]), options,
                                _number(i["min"]) if number else None, _number(i["max"]) if number else None,
                                share_with_model=_flag(i["share_with_model"]), identifying=_flag(i["identifying"])))
    return fields


def _number(value) -> float | None:
    return None if value is None or (isinstance(value, float) and pd.isna(value)) else float(value)
