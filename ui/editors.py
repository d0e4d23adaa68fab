"""Tables the design page edits with st.data_editor, and their conversion back to guide steps and form fields.

Pure pandas (no Streamlit), so the conversions are unit-tested; rows are reordered by their "order" numbers.
"""

from __future__ import annotations

import pandas as pd

from core.forms import FormField, key_from_label
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
