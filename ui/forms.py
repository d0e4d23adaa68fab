"""Inline error display for forms: errors are kept in session state under a form key."""

from __future__ import annotations

import streamlit as st


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
