"""The sidebar menu for signed-in users (Streamlit's own page list is hidden in config.toml)."""

from __future__ import annotations

import streamlit as st

from core.repos.users import User
from ui import nav
from ui.auth import sign_out_everywhere
from ui.warm import preload_elements


def show_menu(user: User) -> None:
    with st.sidebar:
        st.markdown("### Harmonica")
        for page in nav.MENU:
            page.link()
        if user.is_admin:  # model mode settings and call log (issue 3), accounts, backups
            for page in nav.ADMIN_MENU:
                page.link()
        st.divider()
        st.caption(f"Signed in as {user.username}" + (" (admin)" if user.is_admin else ""))
        # The authenticator built by this run's access check (a second one would clash).
        # Signing out ends every session of the user (server-side), not only this browser's cookie.
        st.session_state["_authenticator"].logout("Sign out", location="sidebar", key="sign_out",
                                                  callback=sign_out_everywhere)
        preload_elements()
