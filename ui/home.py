"""The entry page: sign-in and registration for visitors, the session dashboard for creators."""

from __future__ import annotations

import streamlit as st

from core import sessions  # `sessions.list_for` looked up at each run: this module is imported once
from core.accounts import register, registration_policy
from core.sharing import INVALID_CODE, parse_code, usable_invitation
from ui import nav
from ui.auth import authenticator, current_user, sign_in_form, sign_in_new_account
from ui.forms import errors_of, field_error, save_or_show
from ui.menu import show_menu
from ui.resources import db
from ui.safe import escape_markdown
from ui.sharing import invitation_code_box, invitation_from_link


def show() -> None:
    """Home.py's page (its own file holds the app's entry point too)."""
    auth = authenticator()
    user = current_user(auth)

    if user is None:
        st.title("Harmonica")
        st.write("Conversational surveys: an AI facilitator (or a fully offline one) interviews each participant, "
                 "and you get themes and summaries across everyone.")
        invite_code = parse_code(st.query_params.get("invite"))
        if invite_code and usable_invitation(db(), invite_code) is None:
            st.warning(INVALID_CODE)        # checked before saying anything: a made-up code gets no welcome
            invite_code = ""
        elif invite_code:
            st.info("You have an invitation. Sign in to accept it, or create an account: the code from your link "
                    "is filled in below.")
        sign_in, create = st.tabs(["Sign in", "Create account"])
        with sign_in:
            sign_in_form(auth)
        with create:
            with st.form("register"):
                st.subheader("Create an account")
                if problems := errors_of("register"):      # at the top of the form, where the person is looking
                    st.error(problems.get("registration", "The account was not created: see what to change below."),
                             icon=":material/error:")
                name = st.text_input("Your name")
                field_error("register", "name")
                email = st.text_input("Email")
                field_error("register", "email")
                username = st.text_input("Username",
                                         help="3–32 letters, digits, '.', '_' or '-'; not case-sensitive "
                                              "(kept in lower case)")
                field_error("register", "username")
                password = st.text_input("Password", type="password", help="At least 8 characters")
                field_error("register", "password")
                repeat = st.text_input("Repeat password", type="password")
                field_error("register", "password_repeat")
                required = registration_policy(db()) == "invite"
                code = st.text_input("Invitation code" + (" (required)" if required else " (optional)"),
                                     value=invite_code, help="From the invitation link you were given.")
                field_error("register", "invitation_code")
                submitted = st.form_submit_button("Create account", type="primary")
            if submitted:
                new_user = save_or_show("register",
                                        lambda: register(db(), username, email, name, password, repeat, code))
                role = " You are the first user, so you are the site admin." if new_user.is_admin else ""
                joined = " Your invitation is accepted." if code.strip() else ""
                sign_in_new_account(new_user, f"Welcome! Your account '{escape_markdown(new_user.username)}' "
                                              "is ready and you are "
                                              f"signed in.{role}{joined}")
                st.rerun()
        user = current_user(auth)
        if user is None:
            st.stop()

    show_menu(user)
    if flash := st.session_state.pop("flash", None):
        st.success(flash)
    invitation_from_link(db(), user)
    st.title("Your sessions")
    nav.NEW.link()
    invitation_code_box(db(), user)

    mine = sessions.list_for(db(), user)
    if not mine:
        st.info("No sessions yet. Create one from a template or a blank brief, or run `python -m core seed-demo` "
                "for a populated example.")
        st.stop()

    STATUS = {"draft": "Draft", "launched": "Open", "closed": "Closed"}
    widths = [2.8, 1.3, 2.6, 1.7, 0.9, 0.9]
    header = st.columns(widths)
    for col, label in zip(header, ["Name", "Status / role", "Participants", "Last active (UTC)"]):
        col.markdown(f"**{label}**")
    for s in mine:
        cols = st.columns(widths, vertical_alignment="center")
        cols[0].text(s["name"])
        cols[1].text(f"{STATUS.get(s['status'], s['status'])} · {s['role']}")
        early = f" · {s['ended_early']} ended early" if s["ended_early"] else ""
        cols[2].text(f"{s['started']} started · {s['finished'] - s['ended_early']} completed{early}")
        cols[3].text(f"{s['last_activity']:%Y-%m-%d %H:%M}")
        if s["role"] != "viewer":
            nav.DESIGN.link(query_params={"s": s["id"]}, where=cols[4])
        nav.RESULTS.link(query_params={"s": s["id"]}, where=cols[5])
