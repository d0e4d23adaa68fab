"""Members, invitations, visibility, public links and participant privacy: shared by sessions and projects."""

from __future__ import annotations

import streamlit as st

from core.db import Database
from core.permissions import ROLES, VISIBILITY, AccessDenied
from core.repos.users import User
from core import sharing
from core.sharing import PUBLIC_SECTIONS, SharingError
from ui.share import base_url


def _run(action, success: str) -> None:
    """Run a sharing action; show its error, or flash `success` and rerun."""
    try:
        action()
    except (SharingError, AccessDenied) as exc:
        st.error(str(exc))
    else:
        st.session_state["flash"] = success
        st.rerun()


def members_editor(db: Database, user: User, resource_type: str, resource_id: str) -> None:
    """Owners manage members here; anyone else is told who can."""
    try:
        members = sharing.list_members(db, user, resource_type, resource_id)
    except AccessDenied:
        st.info("Only owners manage members and sharing.")
        return
    st.markdown("**Members**")
    for m in members:
        cols = st.columns([3, 2, 1], vertical_alignment="center")
        cols[0].text(f"{m.username} ({m.email})" + ("  — you" if m.user_id == user.id else ""))
        role = cols[1].selectbox("Role", ROLES, index=ROLES.index(m.role), key=f"role_{resource_id}_{m.user_id}",
                                 label_visibility="collapsed")
        if role != m.role:
            _run(lambda: sharing.change_role(db, user, resource_type, resource_id, m.user_id, role),
                 f"{m.username} is now {role}.")
        if cols[2].button("Remove", key=f"remove_{resource_id}_{m.user_id}"):
            _run(lambda: sharing.remove_member(db, user, resource_type, resource_id, m.user_id),
                 f"Removed {m.username}.")

    with st.form(f"invite_{resource_id}", clear_on_submit=True):
        c1, c2 = st.columns([3, 1])
        invitee = c1.text_input("Invite by username or email")
        role = c2.selectbox("Role", ROLES, index=0)
        if st.form_submit_button("Invite"):
            _run(lambda: sharing.invite(db, user, resource_type, resource_id, invitee, role),
                 f"Invitation sent to {invitee.strip()}: they accept it on their dashboard after signing in.")
    pending = sharing.pending_invitations(db, user, resource_type, resource_id)
    for inv in pending:
        cols = st.columns([4, 1], vertical_alignment="center")
        cols[0].text(f"Pending: {inv.invitee} as {inv.role}")
        if cols[1].button("Revoke", key=f"revoke_inv_{inv.id}"):
            _run(lambda: sharing.revoke_invitation(db, user, inv.id), "Invitation revoked.")

    with st.expander("Transfer ownership"):
        target = st.text_input("New owner (username or email of an existing account)",
                               key=f"transfer_{resource_id}")
        if st.button("Transfer", key=f"transfer_btn_{resource_id}", disabled=not target.strip()):
            _run(lambda: sharing.transfer_ownership(db, user, resource_type, resource_id, target),
                 f"{target.strip()} is now an owner; you are an editor.")


def visibility_and_links(db: Database, user: User, session) -> None:
    try:
        links = sharing.public_links(db, user, session.id)
    except AccessDenied:
        return
    st.markdown("**Who can see the results**")
    choice = st.radio("Results visibility", list(VISIBILITY), index=list(VISIBILITY).index(session.visibility),
                      format_func=VISIBILITY.get, key="visibility", label_visibility="collapsed")
    if choice != session.visibility:
        _run(lambda: sharing.set_visibility(db, user, session.id, choice), "Visibility changed.")
    if session.visibility != "public":
        return
    st.markdown("**Public read-only links**")
    for link in links:
        cols = st.columns([5, 1], vertical_alignment="center")
        cols[0].code(f"{base_url()}/public?t={link.token}", language=None)
        cols[0].caption("Shows: " + ", ".join(PUBLIC_SECTIONS[s] for s in link.sections))
        if cols[1].button("Revoke", key=f"revoke_{link.token[:8]}"):
            _run(lambda: sharing.revoke_public_link(db, user, session.id, link.token), "Link revoked.")
    with st.form("public_link"):
        chosen = [key for key, label in PUBLIC_SECTIONS.items()
                  if st.checkbox(label, value=key in ("summary", "themes"), key=f"section_{key}")]
        if st.form_submit_button("Create public link"):
            _run(lambda: sharing.create_public_link(db, user, session.id, chosen), "Public link created.")
