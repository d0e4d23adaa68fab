"""The sidebar menu for signed-in users (Streamlit's own page list is hidden in config.toml)."""

from __future__ import annotations

import streamlit as st

from core.repos.users import User


def show_menu(user: User) -> None:
    with st.sidebar:
        st.markdown("### Harmonica")
        st.page_link("Home.py", label="Dashboard", icon=":material/dashboard:")
        st.page_link("pages/new.py", label="New session", icon=":material/add_circle:")
        st.divider()
        st.caption(f"Signed in as {user.username}" + (" (admin)" if user.is_admin else ""))
        # The authenticator built by this run's access check (a second one would clash).
        st.session_state["_authenticator"].logout("Sign out", location="sidebar", key="logout")
