"""Site administration: accounts, registration policy, audit log (admins only)."""

import streamlit as st

from core import accounts
from core.permissions import require_admin
from core.repos import users as urepo
from core.repos.audit import audit_frame
from ui.auth import allowed_or_stop, require_user
from ui.menu import show_menu
from ui.resources import db

st.set_page_config(page_title="Users · Harmonica", layout="wide")
user = require_user()
show_menu(user)
allowed_or_stop(lambda: require_admin(user))

st.title("Users and audit")
if temporary := st.session_state.pop("temporary_password", None):
    st.warning(f"One-time temporary password for {temporary[0]}: `{temporary[1]}` — it is not shown again. "
               "It only lets them choose a new password at their next sign-in; they are signed out everywhere.")

policy = accounts.registration_policy(db())
choice = st.selectbox("Who can create an account", list(accounts.REGISTRATION_POLICIES),
                      index=list(accounts.REGISTRATION_POLICIES).index(policy),
                      format_func=accounts.REGISTRATION_POLICIES.get)
if choice != policy:
    accounts.set_registration_policy(db(), user, choice)
    st.rerun()

st.subheader("Accounts")
for u in urepo.list_users(db()):
    if u.username.startswith("deleted-"):
        continue
    cols = st.columns([3, 3, 1, 1, 1.4], vertical_alignment="center")
    cols[0].text(u.username + (" (admin)" if u.is_admin else ""))
    cols[1].text(u.email)
    cols[2].text("disabled" if u.disabled else "must change password" if u.must_change_password else "active")
    if u.id != user.id and cols[3].button("Enable" if u.disabled else "Disable", key=f"dis_{u.id}"):
        accounts.set_disabled(db(), user, u.id, not u.disabled)
        st.rerun()
    if cols[4].button("Reset password", key=f"reset_{u.id}"):
        st.session_state["temporary_password"] = (u.username, accounts.reset_password(db(), u.username, actor=user))
        st.rerun()

st.subheader("Audit log")
st.dataframe(audit_frame(db()), hide_index=True, width="stretch")
