"""Form helpers: inline errors kept in session state under a form key, and inputs that keep unsaved typing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import streamlit as st

from core.accounts import RegistrationError
from core.sessions import InvalidInput
from ui.lazy import keep_values

T = TypeVar("T")


def set_errors(form_key: str, errors: dict[str, str] | list[str] | None) -> None:
    st.session_state[f"_errors_{form_key}"] = errors or {}


def errors_of(form_key: str) -> dict[str, str]:
    errors = st.session_state.get(f"_errors_{form_key}", {})
    return errors if isinstance(errors, dict) else {str(i): e for i, e in enumerate(errors)}


def field_error(form_key: str, field: str) -> None:
    """Show the error for `field` (if any) right below it."""
    message = st.session_state.get(f"_errors_{form_key}", {})
    if isinstance(message, dict) and field in message:
        st.error(message[field], icon=":material/error:")


def list_errors(form_key: str) -> None:
    errors = st.session_state.get(f"_errors_{form_key}", {})
    for message in errors.values() if isinstance(errors, dict) else errors:
        st.error(message, icon=":material/error:")


def save_or_show(form_key: str, save: Callable[[], T]) -> T:
    """`save()`, clearing the form's errors; or, when it rejects the input, its errors kept under `form_key` and a
    rerun, so they show where the page draws them (field_error / list_errors) and nothing after this runs."""
    try:
        result = save()
    except (InvalidInput, RegistrationError) as exc:   # both carry errors by field
        set_errors(form_key, exc.errors)
        st.rerun()
    set_errors(form_key, None)
    return result


class KeptInputs:
    """Inputs (outside st.form) whose unsaved typing survives reruns and tab switches: a lazy tab does not draw
    them, and Streamlit forgets a widget it does not draw unless its value is written back (ui.lazy.keep_values).

    Seeded from `stored` on first sight, after `reset()` (a save or Discard), and when the stored values changed
    while nothing here was edited. Widgets take `key=inputs.key(field)` and no `value`.
    """

    def __init__(self, name: str, stored: dict[str, Any]) -> None:
        self.name, self.stored = name, stored
        base = st.session_state.get(self._base)
        if base is None or (base != stored and self.values() == base):
            for field, value in stored.items():
                st.session_state[self.key(field)] = value
            st.session_state[self._base] = stored
        keep_values(*(self.key(field) for field in stored))

    @property
    def _base(self) -> str:
        return f"{self.name}:stored"

    def key(self, field: str) -> str:
        return f"{self.name}:{field}"

    def values(self) -> dict[str, Any]:
        return {field: st.session_state.get(self.key(field)) for field in self.stored}

    def changed(self) -> bool:
        return self.values() != st.session_state[self._base]

    def reset(self) -> None:
        """Start again from what is stored at the next run (after a save)."""
        st.session_state.pop(self._base, None)

    def discard(self) -> None:
        """Put the stored values back (a button callback: before the widgets exist)."""
        for field, value in self.stored.items():
            st.session_state[self.key(field)] = value
        st.session_state[self._base] = self.stored

    def unsaved_note(self) -> None:
        """Say that the inputs differ from what is stored, with a way back."""
        if self.changed():
            note, undo = st.columns([4, 1], vertical_alignment="center")
            note.caption("Unsaved changes: they are kept while you work here, and take effect when you save.")
            undo.button("Discard changes", key=f"{self.name}:discard", on_click=self.discard, width="stretch")
