"""A question asked before a destructive or participant-visible action (close, delete, restore)."""

from __future__ import annotations

from typing import Callable

import streamlit as st


def ask_first(flag: str, title: str, text: str, *, yes: str, no: str, on_yes: Callable[[], None], key: str) -> None:
    """While `st.session_state[flag]` is set (the action's button sets it), a dialog asks `text`: `yes` runs
    `on_yes`, `no` or closing the dialog asks nothing. Its buttons are keyed `{key}_confirmed` / `{key}_cancelled`.

    Asked until answered, also across the dialog's own reruns: the flag, not the button's click, keeps it open.
    """
    if not st.session_state.get(flag):
        return

    @st.dialog(title, on_dismiss=lambda: st.session_state.pop(flag, None))
    def dialog() -> None:
        st.write(text)
        left, right = st.columns(2)
        if left.button(yes, type="primary", key=f"{key}_confirmed"):
            st.session_state.pop(flag, None)
            on_yes()
        if right.button(no, key=f"{key}_cancelled"):
            st.session_state.pop(flag, None)
            st.rerun()

    dialog()
