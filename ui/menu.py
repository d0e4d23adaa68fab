"""The sidebar menu for signed-in users (Streamlit's own page list is hidden in config.toml)."""

from __future__ import annotations

import streamlit as st

from core.repos.users import User
from ui.auth import sign_out_everywhere


def show_menu(user: User) -> None:
    with st.sidebar:
        st.markdown("### Harmonica")
        st.page_link("Home.py", label="Dashboard", icon=":material/dashboard:")
        st.page_link("pages/new.py", label="New session", icon=":material/add_circle:")
        st.page_link("pages/import.py", label="Import answers (CSV)", icon=":material/upload_file:")
        st.page_link("pages/projects.py", label="Projects", icon=":material/folder:")
        st.page_link("pages/account.py", label="Account", icon=":material/person:")
        if user.is_admin:  # model mode settings and call log (issue 3)
            st.page_link("pages/admin.py", label="Admin", icon=":material/settings:")
            st.page_link("pages/users.py", label="Users and audit", icon=":material/admin_panel_settings:")
            st.page_link("pages/backups.py", label="Backups", icon=":material/backup:")
        st.divider()
        st.caption(f"Signed in as {user.username}" + (" (admin)" if user.is_admin else ""))
        # The authenticator built by this run's access check (a second one would clash).
        # Signing out ends every session of the user (server-side), not only this browser's cookie.
        st.session_state["_authenticator"].logout("Sign out", location="sidebar", key="sign_out",
                                                  callback=sign_out_everywhere)
