"""Members, invitations, visibility, public links and participant privacy: shared by sessions and projects."""

from __future__ import annotations

import streamlit as st

from core import sharing
from core.db import Database
from core.permissions import ROLES, VISIBILITY, AccessDenied
from core.repos.users import User
from core.sharing import PUBLIC_SECTIONS, SharingError
from core.text import plural
from ui.safe import escape_markdown
from ui.share import base_url

ISSUED = "issued_invitation"  # session state: the invitation just created, with its code (shown once)


def invite_link(code: str) -> str:
    """The absolute link that opens the dashboard with an invitation code (same base as share links)."""
    return f"{base_url()}/?invite={code}"


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
        invitee = c1.text_input("Invite: who is it for?", help="A note for you (a name, username or email). "
                                "It is not checked: whoever presents the invitation's code gets the role.")
        role = c2.selectbox("Role", ROLES, index=0)
        if st.form_submit_button("Create invitation"):
            try:
                issued = sharing.invite(db, user, resource_type, resource_id, invitee, role)
            except (SharingError, AccessDenied) as exc:
                st.error(str(exc))
            else:
                st.session_state[ISSUED] = {"resource_id": resource_id, "code": issued.code,
                                            "invitee": issued.invitation.invitee, "role": role,
                                            "expires_at": issued.invitation.expires_at}
                st.rerun()
    _issued_invitation(resource_id)
    for inv in sharing.pending_invitations(db, user, resource_type, resource_id):
        cols = st.columns([4, 1], vertical_alignment="center")
        state = "Expired" if sharing.is_expired(inv) else f"Pending until {inv.expires_at:%Y-%m-%d}"
        cols[0].text(f"{state}: invitation for {inv.invitee} as {inv.role}")
        if cols[1].button("Revoke", key=f"revoke_inv_{inv.id}"):
            _run(lambda: sharing.revoke_invitation(db, user, inv.id), "Invitation revoked: its code no longer works.")

    with st.expander("Transfer ownership"):
        target = st.text_input("New owner (username or email of an existing account)",
                               key=f"transfer_{resource_id}")
        if st.button("Transfer", key=f"transfer_btn_{resource_id}", disabled=not target.strip()):
            _run(lambda: sharing.transfer_ownership(db, user, resource_type, resource_id, target),
                 f"{target.strip()} is now an owner; you are an editor.")


def _accept_or_decline(db: Database, user: User, code: str, accept: bool) -> None:
    """Answer the invitation behind `code`; on success leave the link's address and say what happened."""
    try:
        if accept:
            inv = sharing.claim_invitation(db, user, code)
            message = f"Invitation accepted: you are now {inv.role} of the {sharing.target_name(db, inv)}."
        else:
            sharing.decline_invitation(db, user, code)
            message = "Invitation declined."
    except SharingError as exc:
        st.error(str(exc))
        return
    st.query_params.pop("invite", None)
    st.session_state["flash"] = message
    st.rerun()


def invitation_from_link(db: Database, user: User) -> None:
    """On the dashboard opened from an invitation link (?invite=CODE): what it invites to, accept or decline."""
    raw = st.query_params.get("invite")
    if not raw:
        return
    if sharing.claimed_by(db, user, raw):  # accepted already, e.g. when registering from this link
        st.query_params.pop("invite", None)
        return
    try:
        invitation, target = sharing.invitation_for_code(db, raw)
    except SharingError as exc:
        st.warning(str(exc) + " Ask the person who invited you for a new invitation.")
        return
    with st.container(border=True):
        st.text(f"You are invited to the {target} as {invitation.role}.")
        accept, decline, _ = st.columns([1, 1, 4])
        if accept.button("Accept", key="invite_accept", type="primary"):
            _accept_or_decline(db, user, raw, True)
        if decline.button("Decline", key="invite_decline"):
            _accept_or_decline(db, user, raw, False)


def invitation_code_box(db: Database, user: User) -> None:
    """On the dashboard: accept an invitation by entering its code (or pasting its link)."""
    with st.expander("Have an invitation code?"):
        with st.form("invitation_code", clear_on_submit=True):
            code = st.text_input("Invitation code or link")
            if st.form_submit_button("Accept invitation"):
                _accept_or_decline(db, user, code, True)


def _issued_invitation(resource_id: str) -> None:
    """The link and code of the invitation just created here: shown until dismissed, never stored."""
    issued = st.session_state.get(ISSUED)
    if not issued or issued["resource_id"] != resource_id:
        return
    with st.container(border=True):
        st.success(f"Invitation for {escape_markdown(issued['invitee'])} as {issued['role']} created. "
                   "Send them this link (or the "
                   "code) yourself: it is shown only now, works once, and whoever presents it gets the role.")
        st.code(invite_link(issued["code"]), language=None)
        st.text(f"Code: {issued['code']}")
        st.caption(f"It expires on {issued['expires_at']:%Y-%m-%d %H:%M} UTC. Revoke it below if it goes astray.")
        if st.button("Done: hide the code", key=f"hide_code_{resource_id}"):
            st.session_state.pop(ISSUED, None)
            st.rerun()


def audience_quotes(db: Database, user: User, session) -> None:
    """The owner's choice: may participants and public links show verbatim quotes, and from themes of how many."""
    from core.audience import MIN_AUDIENCE_PEOPLE

    with st.form("audience_quotes"):
        st.markdown("**Participants' words outside the team**")
        allow = st.checkbox("Show verbatim quotes to participants and on public links", value=session.audience_quotes,
                            key="audience_allow",
                            help="Off: they see the summary and themes with counts, never anyone's exact words.")
        # no min/max: the browser would refuse an out-of-range number silently and save the previous one
        k = st.number_input(f"…only from themes raised by at least this many people ({MIN_AUDIENCE_PEOPLE} or more)",
                            value=max(MIN_AUDIENCE_PEOPLE, session.audience_min_people), step=1, key="audience_k",
                            help="A quote from a theme only one or two people raised points at them.")
        st.caption("Public links show transcripts only when quotes are allowed: a transcript is everything a "
                   "participant wrote, whatever the size of their themes.")
        if st.form_submit_button("Save quote setting"):
            _run(lambda: sharing.set_audience_quotes(db, user, session.id, allow, int(k)), "Quote setting saved.")


def visibility_and_links(db: Database, user: User, session) -> None:
    try:
        links = sharing.public_links(db, user, session.id)
    except AccessDenied:
        return
    st.markdown("**Who can see the results**")
    choice = st.radio("Results visibility", list(VISIBILITY), index=list(VISIBILITY).index(session.visibility),
                      format_func=VISIBILITY.get, key="visibility", label_visibility="collapsed")
    if choice != session.visibility:
        revoked = f" {plural(len(links), 'public link')} revoked for good." if links and choice != "public" else ""
        _run(lambda: sharing.set_visibility(db, user, session.id, choice), "Visibility changed." + revoked)
    if session.visibility in ("participants", "public"):
        audience_quotes(db, user, session)
    if session.visibility != "public":
        return
    if links:
        st.caption("Changing visibility away from public revokes these links for good; going back to public "
                   "then needs a new link.")
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
