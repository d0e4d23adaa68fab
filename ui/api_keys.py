"""The Account page's API keys: create (shown once), list with prefix and last use, revoke."""

from __future__ import annotations

import streamlit as st

from core import apikeys
from core.apikeys import ApiKeyError
from core.repos.users import User
from ui.resources import db


def _when(value) -> str:
    return "never" if value is None else f"{value:%Y-%m-%d %H:%M} UTC"


def show_api_keys(user: User) -> None:
    st.subheader("API keys")
    st.caption("A key lets a script or an AI agent use the REST API (/api/v1) as you, with exactly your rights. "
               "It is shown once: keep it like a password, and revoke it when it is no longer used.")
    if created := st.session_state.pop("new_api_key", None):
        st.success("Your new key (copy it now: it will not be shown again):")
        st.code(created, language=None)
    with st.form("new_key", clear_on_submit=True):
        name = st.text_input("Key name", max_chars=apikeys.MAX_NAME, placeholder="e.g. Claude Code on my laptop")
        if st.form_submit_button("Create key"):
            try:
                st.session_state["new_api_key"], _ = apikeys.create_key(db(), user, name)
            except ApiKeyError as exc:
                st.error(str(exc), icon=":material/error:")
            else:
                st.rerun()
    keys = apikeys.list_keys(db(), user)
    if not keys:
        st.caption("No keys yet.")
    for key in keys:
        left, right = st.columns([5, 1], vertical_alignment="center")
        state = "active" if key.active else f"revoked {_when(key.revoked_at)}"
        left.text(f"{key.name} · {key.key_prefix}… · created {_when(key.created_at)} · last used "
                  f"{_when(key.last_used_at)} · {state}")
        if key.active and right.button("Revoke", key=f"revoke_{key.id}"):
            apikeys.revoke_key(db(), user, key.id)
            st.rerun()
