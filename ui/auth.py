"""Sign-in with streamlit-authenticator over users stored in DuckDB, and the per-page access guard.

Revocation: streamlit-authenticator's cookie is a JWT of `username` and `exp_date` (issue time + expiry),
written by a browser component, and valid on its own until it expires. So every run also checks, against
the database, when this browser session's sign-in was issued (from the sign-in form, or the cookie's
`exp_date` minus the expiry): a sign-in issued at or before the user's `sessions_valid_after` is ended
(state cleared, cookie deleted). Sign-out, a password change or reset, and disabling set that cutoff to
now, ending every session of the user; a password change then renews the session that made it.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Callable, TypeVar

import extra_streamlit_components as stx
import streamlit as st
import streamlit.components.v1 as components
import streamlit_authenticator as stauth
from streamlit.runtime.scriptrunner import get_script_run_ctx
from streamlit_authenticator.models import cookie_model

from core import accounts
from core.accounts import LOCK_AFTER_FAILURES, LOCK_MINUTES, credentials, record_login_result
from core.config import cookie_key, settings
from core.permissions import AccessDenied
from core.repos import users as urepo
from core.repos.users import User
from ui import nav
from ui.resources import db

# extra_streamlit_components' cookie component (its own build, declared under our name): drawn only to write or
# delete the sign-in cookie, never to read it
_COOKIE_COMPONENT = components.declare_component(
    "harmonica_cookie_writer", path=str(Path(stx.__file__).parent / "CookieManager" / "frontend" / "build"))
_HIDE_EMPTY_FRAMES = "<style>.element-container:has(iframe[height='0']) { display: none; }</style>"


class _CookieWriter:
    """What streamlit-authenticator uses as its CookieManager: writes and deletes through the component, reads
    from the request.

    The library makes a CookieManager on every run, and extra_streamlit_components renders a component at once
    whose first report reruns the page: every page load ran twice, with placeholders on screen in between. The
    library reads the cookie from the request (st.context.cookies), so the component is only needed to write or
    delete it. A write is drawn again on every run until the browser reports it done: a rerun before the
    component's frame loaded (a busy machine) would otherwise drop it, and the next page opened by address would
    be signed out."""

    def __init__(self, key: str = "init") -> None:
        self._drawn = False              # one drawing per run (a component key may appear once)

    def set(self, cookie: str, value: str, expires_at: datetime | None = None, **_options) -> None:
        expires = expires_at or datetime.now() + timedelta(days=1)
        self._send({"method": "set", "cookie": cookie, "value": value,
                    "options": {"path": "/", "expires": expires.isoformat(), "sameSite": "strict"}})

    def delete(self, cookie: str, key: str = "delete") -> None:
        self._send({"method": "delete", "cookie": cookie})

    def get(self, cookie: str):
        return st.context.cookies.get(cookie)

    def _send(self, command: dict) -> None:
        n = st.session_state.get(_COOKIE_WRITES, 0) + 1
        st.session_state[_COOKIE_WRITES] = n
        st.session_state[_COOKIE_PENDING] = (f"harmonica_cookie_{n}", command)
        self._drawn = False
        self.resend()

    def resend(self) -> None:
        """Draw the pending write (if any) until its component reports that the browser did it."""
        pending = st.session_state.get(_COOKIE_PENDING)
        if pending is None or self._drawn:
            return
        key, command = pending
        if st.session_state.get(key):
            st.session_state.pop(_COOKIE_PENDING, None)
            return
        self._drawn = True
        st.markdown(_HIDE_EMPTY_FRAMES, unsafe_allow_html=True)   # static CSS: the frame has no height
        _COOKIE_COMPONENT(**command, key=key, default=False)


_COOKIE_PENDING = "_harmonica_cookie_pending"   # (component key, "set" | "delete", args, kwargs)
_COOKIE_WRITES = "_harmonica_cookie_writes"     # writes so far: each gets its own component key


cookie_model.stx = SimpleNamespace(CookieManager=_CookieWriter)   # the library's only use of the module

COOKIE_NAME = "harmonica_auth"
COOKIE_EXPIRY_DAYS = 7
SIGNED_IN_AT = "_harmonica_signed_in_at"  # session state: when this browser session's sign-in was issued


def authenticator() -> stauth.Authenticate:
    """A new authenticator for this run, also kept for the menu's sign-out button.

    Built on every run from the database, so a new or disabled account takes effect at once; only one
    may be built per run (its cookie component has a fixed widget key).
    """
    auth = stauth.Authenticate(
        credentials(db()),
        cookie_name=COOKIE_NAME,
        cookie_key=cookie_key(settings()),
        cookie_expiry_days=COOKIE_EXPIRY_DAYS,
        auto_hash=False,
        login_sleep_time=0,  # the default sleeps on every run of every page
    )
    st.session_state["_authenticator"] = auth
    return auth


def _end_this_session(auth: stauth.Authenticate) -> None:
    """Forget this browser session's sign-in and delete its cookie (other sessions are not touched)."""
    auth.authentication_controller.logout()  # clears the state; the library then ignores the cookie
    auth.cookie_controller.delete_cookie()
    st.session_state.pop(SIGNED_IN_AT, None)


def signed_in_user(auth: stauth.Authenticate) -> User | None:
    """The user of this browser session (from state or the cookie) if that sign-in is still valid, or None."""
    from_cookie = not st.session_state.get("authentication_status")
    try:
        auth.login(location="unrendered")
    except Exception:  # a cookie naming a deleted or disabled user must not break the page
        _end_this_session(auth)
        return None
    if not st.session_state.get("authentication_status"):
        return None
    if from_cookie:
        token = auth.cookie_controller.cookie_model.token
        st.session_state[SIGNED_IN_AT] = accounts.cookie_issued_at(token, COOKIE_EXPIRY_DAYS)
    else:  # signed in by the form (which stamps it) or, in tests, by setting the state directly
        st.session_state.setdefault(SIGNED_IN_AT, time.time())
    user = urepo.get_by_username(db(), st.session_state.get("username") or "")
    if user is None or not accounts.sign_in_valid(user, st.session_state.get(SIGNED_IN_AT)):
        _end_this_session(auth)
        return None
    return user


def _restamp(user_id: str) -> None:
    """Date this browser session's sign-in after the user's cutoff (set by their own password change)."""
    fresh = urepo.get_by_id(db(), user_id)
    floor = accounts.sign_in_floor(fresh.sessions_valid_after if fresh else None)
    while time.time() < floor:  # the new cookie's issue time (the library reads the clock) must pass the cutoff
        time.sleep(0.001)
    st.session_state[SIGNED_IN_AT] = time.time()


_NOTICE = "_harmonica_notice"  # (page, message): a success message that stays on its page


def _page() -> str:
    ctx = get_script_run_ctx()
    return ctx.page_script_hash if ctx is not None else ""


def sticky_notice(message: str) -> None:
    """Show `message` on this page on every run until the user moves on: writing a new sign-in cookie (a browser
    component) reruns the page at once, which would wipe a one-run message."""
    st.session_state[_NOTICE] = (_page(), message)


def _show_notice() -> None:
    page, message = st.session_state.get(_NOTICE) or (None, "")
    if page is None:
        return
    if page != _page():
        st.session_state.pop(_NOTICE, None)
        return
    st.success(message)


_PASSWORD_SET = "Your new password is set. You are signed out everywhere else."


def renew_session(user: User) -> None:
    """Keep this browser signed in after its own password change, which ended every sign-in of the user."""
    _restamp(user.id)
    st.session_state["_authenticator"].cookie_controller.set_cookie()  # a new cookie, issued after the cutoff
    sticky_notice(_PASSWORD_SET)
    _show_notice()


def sign_out_everywhere(info: dict) -> None:
    """Sign-out callback: end every session of the user, not only this browser's (its cookie may be copied)."""
    if info.get("username"):
        accounts.end_sessions(db(), info["username"])


def _sign_out_now() -> None:
    """Button callback: end every session of the signed-in user and clear this one (the cookie is ignored)."""
    sign_out_everywhere({"username": st.session_state.get("username")})
    st.session_state["_authenticator"].authentication_controller.logout()
    st.session_state.pop(SIGNED_IN_AT, None)


_FORCED_FIELDS = ("_forced_current", "_forced_new", "_forced_repeat")
_RENEW_COOKIE = "_harmonica_renew_cookie"


def _submit_forced_change() -> None:
    """Form callback (runs before the page): change the password of this session's still-valid sign-in."""
    user = urepo.get_by_username(db(), st.session_state.get("username") or "")
    values = [st.session_state.get(key) or "" for key in _FORCED_FIELDS]
    for key in _FORCED_FIELDS:
        st.session_state[key] = ""
    if (user is None or not user.must_change_password or not st.session_state.get("authentication_status")
            or not accounts.sign_in_valid(user, st.session_state.get(SIGNED_IN_AT))):
        return
    errors = accounts.change_password(db(), user, *values)
    if errors:
        st.session_state["_forced_errors"] = errors
        return
    _restamp(user.id)
    st.session_state[_RENEW_COOKIE] = _PASSWORD_SET  # the cookie is set during the next run (a browser component)


def _forced_password_change() -> None:
    """After a password reset: only the change form, until the user has chosen their own password."""
    st.title("Choose a new password")
    st.info("Your password was reset by an administrator. Choose your own password to continue; the "
            "temporary one opens nothing else.")
    with st.form("forced_password_change"):
        st.text_input("Temporary password", type="password", key=_FORCED_FIELDS[0])
        st.text_input("New password", type="password", key=_FORCED_FIELDS[1],
                      help=f"At least {accounts.PASSWORD_MIN} characters")
        st.text_input("Repeat new password", type="password", key=_FORCED_FIELDS[2])
        st.form_submit_button("Set my password", type="primary", on_click=_submit_forced_change)
    for message in st.session_state.pop("_forced_errors", {}).values():
        st.error(message)
    st.button("Sign out", key="forced_sign_out", on_click=_sign_out_now)
    st.stop()


def current_user(auth: stauth.Authenticate | None = None) -> User | None:
    """The signed-in, enabled user of this browser session (from state or the cookie), or None.

    A user who must change a reset password gets the change form instead, and the run stops there.
    """
    auth = auth or authenticator()
    auth.cookie_controller.cookie_model.cookie_manager.resend()
    user = signed_in_user(auth)
    if user is None:
        return None
    if user.must_change_password:
        _forced_password_change()
    if notice := st.session_state.pop(_RENEW_COOKIE, None):
        auth.cookie_controller.set_cookie()
        sticky_notice(notice)
    _show_notice()
    return user


def require_user() -> User:
    """Stop the page unless someone is signed in. Every protected page calls this first, on every run."""
    user = current_user(authenticator())
    if user is None:
        st.warning("Please sign in to see this page.")
        nav.HOME.link("Go to sign-in", icon=":material/login:")
        st.stop()
    return user


def sign_in_new_account(user: User, welcome: str) -> None:
    """Sign in an account this browser just created, as the sign-in form does (state, stamp, cookie), so the
    person does not type their details twice; `welcome` stays shown on this page."""
    st.session_state.update({"authentication_status": True, "username": user.username, "name": user.name,
                             "email": user.email, "roles": None, "logout": None, SIGNED_IN_AT: time.time()})
    record_login_result(db(), user.username, True)
    st.session_state[_RENEW_COOKIE] = welcome     # the cookie is written in the next run, which completes


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
        st.session_state[SIGNED_IN_AT] = time.time()
        record_login_result(db(), st.session_state["username"], True)
    elif st.session_state.get("authentication_status") is False:
        st.error("Username or password is incorrect.")


T = TypeVar("T")


def allowed_or_stop(fetch: Callable[[], T], back: nav.PageRef = nav.HOME,
                    back_label: str = "Back to your sessions") -> T:
    """`fetch()` (a core call that checks access), or its refusal, a way back, and the end of the page."""
    try:
        return fetch()
    except AccessDenied as exc:
        st.error(str(exc))
        back.link(back_label)
        st.stop()
