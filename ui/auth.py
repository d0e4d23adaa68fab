"""Sign-in with streamlit-authenticator over users stored in DuckDB, and the per-page access guard."""

from __future__ import annotations

from typing import Callable, TypeVar

import streamlit as st
import streamlit_authenticator as stauth

from core.accounts import LOCK_AFTER_FAILURES, LOCK_MINUTES, credentials, record_login_result
from core.config import secret_file, settings
from core.repos import users as urepo
from core.permissions import AccessDenied
from core.repos.users import User
from ui.resources import db

COOKIE_NAME = "harmonica_auth"


def authenticator() -> stauth.Authenticate:
    """A new authenticator for this run, also kept for the menu's sign-out button.

    Built on every run from the database, so a new or disabled account takes effect at once; only one
    may be built per run (its cookie component has a fixed widget key).
    """
    auth = stauth.Authenticate(
        credentials(db()),
        cookie_name=COOKIE_NAME,
        cookie_key=secret_file(settings(), "cookie_key"),
        cookie_expiry_days=7,
        auto_hash=False,
        login_sleep_time=0,  # the default sleeps on every run of every page
    )
    st.session_state["_authenticator"] = auth
    return auth


def current_user(auth: stauth.Authenticate | None = None) -> User | None:
    """The signed-in, enabled user of this browser session (from state or the cookie), or None."""
    auth = auth or authenticator()
    try:
        auth.login(location="unrendered")
    except Exception:  # a cookie naming a deleted or disabled user must not break the page
        st.session_state["authentication_status"] = None
    if not st.session_state.get("authentication_status"):
        return None
    user = urepo.get_by_username(db(), st.session_state.get("username") or "")
    return None if user is None or user.disabled else user


def require_user() -> User:
    """Stop the page unless someone is signed in. Every protected page calls this first, on every run."""
    user = current_user(authenticator())
    if user is None:
        st.warning("Please sign in to see this page.")
        st.page_link("Home.py", label="Go to sign-in", icon=":material/login:")
        st.stop()
    return user


def sign_in_form(auth: stauth.Authenticate) -> None:
    """streamlit-authenticator's sign-in form, with failed attempts counted in the database."""
    creds = auth.authentication_controller.authentication_model.credentials["usernames"]
    before = {name: entry.get("failed_login_attempts", 0) for name, entry in creds.items()}
    try:
        auth.login(location="main", max_login_attempts=LOCK_AFTER_FAILURES, key="login",
                   fields={"Form name": "Sign in", "Login": "Sign in"})
    except Exception:  # raised when the username is at the attempt limit
        st.error(f"Too many failed attempts: this account is locked for {LOCK_MINUTES} minutes. "
                 "An administrator can reset the password.")
        return
    for name, entry in creds.items():
        if entry.get("failed_login_attempts", 0) > before.get(name, 0):
            record_login_result(db(), name, False)
    if st.session_state.get("authentication_status"):
        record_login_result(db(), st.session_state["username"], True)
    elif st.session_state.get("authentication_status") is False:
        st.error("Username or password is incorrect.")


T = TypeVar("T")


def allowed_or_stop(fetch: Callable[[], T], back: str = "Home.py", back_label: str = "Back to your sessions") -> T:
    """`fetch()` (a core call that checks access), or its refusal, a way back, and the end of the page."""
    try:
        return fetch()
    except AccessDenied as exc:
        st.error(str(exc))
        st.page_link(back, label=back_label)
        st.stop()
