"""The signed-in user's account: password, API keys, data export, deletion."""

import json

import streamlit as st

from core import accounts
from ui.api_keys import show_api_keys
from ui.auth import renew_session, require_user
from ui.menu import show_menu
from ui.resources import db

st.set_page_config(page_title="Account · Harmonica", layout="centered")
user = require_user()
show_menu(user)

st.title("Your account")
st.text(f"{user.name} · {user.username} · {user.email}")

with st.form("password", clear_on_submit=True):
    st.subheader("Change password")
    current = st.text_input("Current password", type="password")
    new = st.text_input("New password", type="password", help="At least 8 characters")
    repeat = st.text_input("Repeat new password", type="password")
    if st.form_submit_button("Change password"):
        errors = accounts.change_password(db(), user, current, new, repeat)
        for message in errors.values():
            st.error(message)
        if not errors:
            renew_session(user)  # the change ended every sign-in of yours; this browser stays signed in (says so)

show_api_keys(user)

st.subheader("Your data")
if st.button("Prepare my data (JSON)"):
    st.session_state["export"] = json.dumps(accounts.export_user_data(db(), user), indent=2)
if "export" in st.session_state:
    st.download_button("Download my data", st.session_state["export"], file_name="harmonica-account.json",
                       mime="application/json")

with st.expander("Delete my account"):
    st.write("Your name, username, email and password are erased and you are signed out. Sessions and "
             "projects you are the only owner of must be transferred or deleted first.")
    password = st.text_input("Your password, to confirm", type="password", key="delete_pw")
    if st.button("Delete my account", type="primary", disabled=not password):
        try:
            accounts.delete_account(db(), user, password)
        except ValueError as exc:
            st.error(str(exc))
        else:
            st.session_state["_authenticator"].logout(location="unrendered")
            st.success("Your account has been deleted.")
            st.stop()
