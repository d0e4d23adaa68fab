"""Entry page: sign-in and registration for visitors, the session dashboard for creators."""

import streamlit as st

from core.accounts import RegistrationError, register, registration_policy
from core.sessions import list_for
from core.sharing import INVALID_CODE, parse_code, usable_invitation
from ui.auth import authenticator, current_user, sign_in_form
from ui.menu import show_menu
from ui.resources import db
from ui.sharing import invitation_code_box, invitation_from_link

st.set_page_config(page_title="Harmonica", page_icon=":material/forum:", layout="wide")

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
            name = st.text_input("Your name")
            email = st.text_input("Email")
            username = st.text_input("Username",
                                     help="3–32 letters, digits, '.', '_' or '-'; not case-sensitive (kept in lower case)")
            password = st.text_input("Password", type="password", help="At least 8 characters")
            repeat = st.text_input("Repeat password", type="password")
            required = registration_policy(db()) == "invite"
            code = st.text_input("Invitation code" + (" (required)" if required else " (optional)"),
                                 value=invite_code, help="From the invitation link you were given.")
            submitted = st.form_submit_button("Create account")
        if submitted:
            try:
                new_user = register(db(), username, email, name, password, repeat, code)
            except RegistrationError as exc:
                for field, message in exc.errors.items():
                    st.error(f"{field.replace('_', ' ').capitalize()}: {message}")
            else:
                role = " You are the first user, so you are the site admin." if new_user.is_admin else ""
                joined = " Your invitation is accepted." if code.strip() else ""
                st.success(f"Account '{new_user.username}' created.{role}{joined} Sign in on the first tab.")
    user = current_user(auth)
    if user is None:
        st.stop()

show_menu(user)
if flash := st.session_state.pop("flash", None):
    st.success(flash)
invitation_from_link(db(), user)
st.title("Your sessions")
st.page_link("pages/new.py", label="New session", icon=":material/add_circle:")
invitation_code_box(db(), user)

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
