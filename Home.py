"""Entry page: sign-in and registration for visitors, the session dashboard for creators."""

import streamlit as st

from core.accounts import RegistrationError, register
from core.sessions import list_for
from core.sharing import SharingError, answer_invitation, my_invitations
from ui.auth import authenticator, current_user, sign_in_form
from ui.menu import show_menu
from ui.resources import db

st.set_page_config(page_title="Harmonica", page_icon=":material/forum:", layout="wide")

auth = authenticator()
user = current_user(auth)

if user is None:
    st.title("Harmonica")
    st.write("Conversational surveys: an AI facilitator (or a fully offline one) interviews each participant, "
             "and you get themes and summaries across everyone.")
    sign_in, create = st.tabs(["Sign in", "Create account"])
    with sign_in:
        sign_in_form(auth)
    with create:
        with st.form("register"):
            st.subheader("Create an account")
            name = st.text_input("Your name")
            email = st.text_input("Email")
            username = st.text_input("Username", help="3–32 letters, digits, '.', '_' or '-'")
            password = st.text_input("Password", type="password", help="At least 8 characters")
            repeat = st.text_input("Repeat password", type="password")
            submitted = st.form_submit_button("Create account")
        if submitted:
            try:
                new_user = register(db(), username, email, name, password, repeat)
            except RegistrationError as exc:
                for field, message in exc.errors.items():
                    st.error(f"{field.replace('_', ' ').capitalize()}: {message}")
            else:
                role = " You are the first user, so you are the site admin." if new_user.is_admin else ""
                st.success(f"Account '{new_user.username}' created.{role} Sign in on the first tab.")
    user = current_user(auth)
    if user is None:
        st.stop()

show_menu(user)
if flash := st.session_state.pop("flash", None):
    st.success(flash)
for invitation, target in my_invitations(db(), user):
    with st.container(border=True):
        st.text(f"You are invited to the {target} as {invitation.role}.")
        accept, decline, _ = st.columns([1, 1, 4])
        for column, label, value in ((accept, "Accept", True), (decline, "Decline", False)):
            if column.button(label, key=f"{label}_{invitation.id}"):
                try:
                    answer_invitation(db(), user, invitation.id, value)
                except SharingError as exc:
                    st.error(str(exc))
                else:
                    st.rerun()
st.title("Your sessions")
st.page_link("pages/new.py", label="New session", icon=":material/add_circle:")

sessions = list_for(db(), user)
if not sessions:
    st.info("No sessions yet. Create one from a template or a blank brief, or run `python -m core seed-demo` "
            "for a populated example.")
    st.stop()

STATUS = {"draft": "Draft", "launched": "Open", "closed": "Closed"}
header = st.columns([4, 1.2, 1.2, 1.2, 2, 1, 1])
for col, label in zip(header, ["Name", "Status / role", "Started", "Finished", "Last activity", "", ""]):
    col.markdown(f"**{label}**")
for s in sessions:
    cols = st.columns([4, 1.2, 1.2, 1.2, 2, 1, 1], vertical_alignment="center")
    cols[0].text(s["name"])
    cols[1].text(f"{STATUS.get(s['status'], s['status'])} · {s['role']}")
    cols[2].text(str(s["started"]))
    cols[3].text(str(s["finished"]))
    cols[4].text(f"{s['last_activity']:%Y-%m-%d %H:%M} UTC")
    if s["role"] != "viewer":
        cols[5].page_link("pages/design.py", label="Design", query_params={"s": s["id"]})
    cols[6].page_link("pages/results.py", label="Results", query_params={"s": s["id"]})
