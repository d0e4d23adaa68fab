"""Drawing chat messages and the pre-session form."""

from __future__ import annotations

from typing import Any

import streamlit as st

from core.forms import FormField
from core.repos.participants import Message
from core.text import escape_label
from ui.safe import show_text

AVATARS = {"facilitator": ":material/forum:", "participant": ":material/person:"}


def show_message(m: Message, note: str | None = None) -> None:
    """One chat bubble; `note` is a small caption under it (e.g. which mode wrote it)."""
    with st.chat_message("assistant" if m.role == "facilitator" else "user", avatar=AVATARS.get(m.role)):
        show_text(m.content)
        if note:
            st.caption(note)


def render_form(fields: list[FormField], errors: dict[str, str]) -> dict[str, Any]:
    """Widgets for each field (inside an st.form), with its error message right below it."""
    answers: dict[str, Any] = {}
    for f in fields:
        label = escape_label(f.label) + ("" if f.required else " (optional)")   # labels render Markdown
        key = f"form_{f.key}"
        if f.type == "short_text":
            answers[f.key] = st.text_input(label, key=key)
        elif f.type == "long_text":
            answers[f.key] = st.text_area(label, key=key)
        elif f.type == "email":
            answers[f.key] = st.text_input(label, key=key, placeholder="name@example.org")
        elif f.type == "number":
            # Free text, checked on the server: a number_input cannot be left empty for optional fields.
            hint = " – ".join(str(int(v) if float(v).is_integer() else v) for v in (f.min, f.max) if v is not None)
            answers[f.key] = st.text_input(label, key=key, placeholder=hint or "a number")
        elif f.type == "single_choice":
            answers[f.key] = st.radio(label, f.options, index=None, key=key, format_func=escape_label)
        elif f.type == "multiple_choice":
            answers[f.key] = st.multiselect(label, f.options, key=key)
        elif f.type == "consent":
            answers[f.key] = st.checkbox(label, key=key)
        if f.key in errors:
            st.error(errors[f.key], icon=":material/error:")
    return answers
