"""Members, invitations, results visibility and public links of sessions and projects (all audited)."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

from core import clock
from core.db import Database
from core.ids import looks_like_id, new_token
from core.permissions import ROLES, VISIBILITY, AccessDenied, Permission, ProjectPermission, require, require_project
from core.repos import invitations as irepo
from core.repos import memberships as mrepo
from core.repos import projects as projrepo
from core.repos import public_links as linkrepo
from core.repos import sessions as srepo
from core.repos import users as urepo
from core.repos.audit import insert_audit
from core.repos.invitations import Invitation
from core.repos.memberships import Member
from core.repos.public_links import PublicLink
from core.repos.users import User

PUBLIC_SECTIONS = {"summary": "Summary", "themes": "Themes and chart", "quotes": "Quotes",
                   "transcripts": "Transcripts"}
INVITATION_DAYS = 14
INVALID_CODE = "This invitation code is not valid: it may be mistyped, used, revoked or expired."
# Claims (and registrations that claim) are serialised, so a code's check and its use cannot interleave.
_CLAIMS = threading.Lock()


class SharingError(Exception):
    """A request that cannot be carried out; the message is fit to show."""


def _check_resource(db: Database, user: User, resource_type: str, resource_id: str) -> None:
    """Only owners manage members of a session or project."""
    if resource_type == "session":
        require(db, user, Permission.MANAGE_MEMBERS, srepo.get_session(db, resource_id))
    elif resource_type == "project":
        require_project(db, user, ProjectPermission.MANAGE_MEMBERS, projrepo.get_project(db, resource_id))
    else:
        raise AccessDenied("Unknown resource.")


def list_members(db: Database, user: User, resource_type: str, resource_id: str) -> list[Member]:
    _check_resource(db, user, resource_type, resource_id)
    return mrepo.members(db, resource_type, resource_id)


def pending_invitations(db: Database, user: User, resource_type: str, resource_id: str) -> list[Invitation]:
    """Pending invitations of a session or project (owners only); expired ones too, until revoked."""
    _check_resource(db, user, resource_type, resource_id)
    return irepo.pending_of_resource(db, resource_type, resource_id)


def code_hash(code: str) -> str:
    """The stored form of an invitation code (codes are random, so a plain SHA-256 is enough)."""
    return hashlib.sha256(code.encode("utf-8")).hexdigest()


def parse_code(text: str | None) -> str:
    """The code in what a person typed or pasted: the bare code, or an invitation link holding `invite=`."""
    text = (text or "").strip()
    if "invite=" in text:
        query = urlsplit(text).query if "?" in text else text
        text = (parse_qs(query).get("invite") or [""])[0].strip()
    return text if looks_like_id(text) else ""


def is_expired(invitation: Invitation) -> bool:
    """Whether the invitation's time has run out."""
    return invitation.expires_at is None or invitation.expires_at <= clock.utcnow()


@dataclass(frozen=True)
class IssuedInvitation:
    """A new invitation and its code: the code exists only here, shown once to the inviter."""

    invitation: Invitation
    code: str


def invite(db: Database, user: User, resource_type: str, resource_id: str, invitee: str,
           role: str) -> IssuedInvitation:
    """Create an invitation claimed by presenting its secret code; `invitee` is only the inviter's note."""
    _check_resource(db, user, resource_type, resource_id)
    invitee = invitee.strip()
    if role not in ROLES:
        raise SharingError(f"Choose a role among: {', '.join(ROLES)}.")
    if not invitee or len(invitee) > 254:
        raise SharingError("Say who the invitation is for (a name, username or email: a note for you).")
    target = urepo.get_by_username(db, invitee) or urepo.get_by_email(db, invitee)
    if target and any(m.user_id == target.id for m in mrepo.members(db, resource_type, resource_id)):
        raise SharingError(f"{target.username} is already a member; change their role instead.")
    if any(i.invitee.lower() == invitee.lower() and not is_expired(i)
           for i in irepo.pending_of_resource(db, resource_type, resource_id)):
        raise SharingError("An invitation for this person is already pending: revoke it to issue a new code.")
    code = new_token()
    inv = irepo.insert_invitation(db, resource_type, resource_id, invitee, role, user.id, code_hash(code),
                                  clock.utcnow() + timedelta(days=INVITATION_DAYS))
    insert_audit(db, user.id, "member.invite", resource_type, resource_id,
                       {"invitee": invitee, "role": role, "invitation": inv.id})
    return IssuedInvitation(inv, code)


def target_name(db: Database, invitation: Invitation) -> str | None:
    """What an invitation invites to, for people: 'session “…”' or 'project “…”' (None if it is gone)."""
    if invitation.resource_type == "session":
        s = srepo.get_session(db, invitation.resource_id)
        return f"session “{s.name}”" if s else None
    p = projrepo.get_project(db, invitation.resource_id)
    return f"project “{p.title}”" if p else None


def usable_invitation(db: Database, code: str | None) -> Invitation | None:
    """The pending, unexpired invitation behind a code, or None."""
    code = parse_code(code)
    inv = irepo.invitation_by_code_hash(db, code_hash(code)) if code else None
    if inv is None or inv.status != "pending" or is_expired(inv) or target_name(db, inv) is None:
        return None
    return inv


def invitation_for_code(db: Database, code: str | None) -> tuple[Invitation, str]:
    """What a valid code invites to (the invitation and a name to show); SharingError otherwise."""
    inv = usable_invitation(db, code)
    if inv is None:
        raise SharingError(INVALID_CODE)
    return inv, target_name(db, inv) or ""


def claimed_by(db: Database, user: User, code: str | None) -> bool:
    """Whether `user` is the one who already claimed the invitation behind this code."""
    code = parse_code(code)
    inv = irepo.invitation_by_code_hash(db, code_hash(code)) if code else None
    return inv is not None and inv.status == "accepted" and inv.accepted_by == user.id


def _claim(db: Database, user: User, inv: Invitation) -> None:
    """Grant the invitation's role to `user` (caller holds _CLAIMS), audited."""
    if not irepo.claim_invitation(db, inv.id, user.id, clock.utcnow()):
        raise SharingError(INVALID_CODE)
    insert_audit(db, user.id, "member.accept", inv.resource_type, inv.resource_id,
                       {"role": inv.role, "invitation": inv.id})


def claim_invitation(db: Database, user: User, code: str | None) -> Invitation:
    """The signed-in holder of a code accepts its invitation; the code is then used up."""
    with _CLAIMS:
        inv = usable_invitation(db, code)
        if inv is None:
            raise SharingError(INVALID_CODE)
        if mrepo.roles_of(db, user.id, [(inv.resource_type, inv.resource_id)]):
            raise SharingError("You are already a member there; the invitation stays unused for its recipient.")
        _claim(db, user, inv)
    return inv


def decline_invitation(db: Database, user: User, code: str | None) -> None:
    """The holder of a code turns the invitation down; the code is then used up."""
    with _CLAIMS:
        inv = usable_invitation(db, code)
        if inv is None or not irepo.close_invitation(db, inv.id, "declined"):
            raise SharingError(INVALID_CODE)
    insert_audit(db, user.id, "member.decline", inv.resource_type, inv.resource_id, {"role": inv.role})


def register_with_invitation(db: Database, code: str | None, create: Callable[[], User]) -> User:
    """Create an account with `create()` and give it the code's invitation; nothing is created if the code
    is not (or no longer) valid. The check, the account and the claim happen under one lock."""
    with _CLAIMS:
        inv = usable_invitation(db, code)
        if inv is None:
            raise SharingError(INVALID_CODE)
        user = create()
        _claim(db, user, inv)
    return user


def revoke_invitation(db: Database, user: User, invitation_id: str) -> None:
    """An owner withdraws a pending invitation: its code stops working."""
    inv = irepo.get_invitation(db, invitation_id)
    if inv is None:
        raise SharingError("This invitation does not exist.")
    _check_resource(db, user, inv.resource_type, inv.resource_id)
    if not irepo.close_invitation(db, inv.id, "revoked"):
        raise SharingError("This invitation is no longer pending.")
    insert_audit(db, user.id, "member.revoke_invitation", inv.resource_type, inv.resource_id,
                       {"invitee": inv.invitee, "invitation": inv.id})


def _owners(db: Database, resource_type: str, resource_id: str) -> list[str]:
    return [m.user_id for m in mrepo.members(db, resource_type, resource_id) if m.role == "owner"]


def change_role(db: Database, user: User, resource_type: str, resource_id: str, member_id: str, role: str) -> None:
    _check_resource(db, user, resource_type, resource_id)
    if role not in ROLES:
        raise SharingError(f"Choose a role among: {', '.join(ROLES)}.")
    members = {m.user_id: m for m in mrepo.members(db, resource_type, resource_id)}
    if member_id not in members:
        raise SharingError("This person is not a member.")
    if (members[member_id].role == "owner" and role != "owner"
            and _owners(db, resource_type, resource_id) == [member_id]):
        raise SharingError("The last owner cannot be demoted: make someone else owner first.")
    mrepo.set_role(db, resource_type, resource_id, member_id, role)
    insert_audit(db, user.id, "member.role", resource_type, resource_id,
                       {"member": members[member_id].username, "from": members[member_id].role, "to": role})


def remove_member(db: Database, user: User, resource_type: str, resource_id: str, member_id: str) -> None:
    _check_resource(db, user, resource_type, resource_id)
    members = {m.user_id: m for m in mrepo.members(db, resource_type, resource_id)}
    if member_id not in members:
        raise SharingError("This person is not a member.")
    if members[member_id].role == "owner" and _owners(db, resource_type, resource_id) == [member_id]:
        raise SharingError("The last owner cannot be removed: transfer ownership first.")
    mrepo.remove_member(db, resource_type, resource_id, member_id)
    insert_audit(db, user.id, "member.remove", resource_type, resource_id,
                       {"member": members[member_id].username})


def transfer_ownership(db: Database, user: User, resource_type: str, resource_id: str, new_owner: str) -> None:
    """Make `new_owner` (username or email of an existing account) owner; the current owner becomes editor."""
    _check_resource(db, user, resource_type, resource_id)
    target = urepo.get_by_username(db, new_owner.strip()) or urepo.get_by_email(db, new_owner.strip())
    if target is None or target.disabled:
        raise SharingError("No active account with that username or email.")
    if target.id == user.id:
        raise SharingError("You are already an owner.")
    mrepo.set_role(db, resource_type, resource_id, target.id, "owner")
    mrepo.set_role(db, resource_type, resource_id, user.id, "editor")
    insert_audit(db, user.id, "member.transfer", resource_type, resource_id, {"to": target.username})


def set_visibility(db: Database, user: User, session_id: str, visibility: str) -> None:
    s = require(db, user, Permission.MANAGE_SHARING, srepo.get_session(db, session_id))
    if visibility not in VISIBILITY:
        raise SharingError(f"Unknown visibility '{visibility}'.")
    srepo.update_session(db, session_id, visibility=visibility)
    insert_audit(db, user.id, "session.visibility", "session", session_id, {"from": s.visibility,
                                                                                 "to": visibility})
    if visibility != "public":
        # Leaving "public" ends every public link for good: going back to public needs a new link.
        for _token in linkrepo.revoke_public_links_of_session(db, session_id):
            insert_audit(db, user.id, "public_link.revoke", "session", session_id,
                               {"reason": f"visibility changed to {visibility}"})


def set_audience_quotes(db: Database, user: User, session_id: str, allow: bool, min_people: int) -> None:
    """Whether participants and public links may show verbatim quotes, and k: the fewest distinct participants a
    theme needs before any of its quotes is shown to them (at least MIN_AUDIENCE_PEOPLE). Owners only, audited."""
    from core.audience import MIN_AUDIENCE_PEOPLE

    s = require(db, user, Permission.MANAGE_SHARING, srepo.get_session(db, session_id))
    try:
        k = int(min_people)
    except (TypeError, ValueError):
        raise SharingError("The number of people must be a whole number.") from None
    if k < MIN_AUDIENCE_PEOPLE:
        raise SharingError(f"A theme must be raised by at least {MIN_AUDIENCE_PEOPLE} people before its quotes "
                           "can be shown to participants or the public.")
    if k > 1000:
        raise SharingError("The number of people can be at most 1,000.")
    srepo.update_session(db, session_id, audience_quotes=bool(allow), audience_min_people=k)
    insert_audit(db, user.id, "session.audience_quotes", "session", session_id,
                       {"from": {"quotes": s.audience_quotes, "k": s.audience_min_people},
                        "to": {"quotes": bool(allow), "k": k}})


def create_public_link(db: Database, user: User, session_id: str, sections: list[str]) -> str:
    """A new unguessable read-only link; needs visibility 'public'."""
    s = require(db, user, Permission.MANAGE_SHARING, srepo.get_session(db, session_id))
    if s.visibility != "public":
        raise SharingError("Set results visibility to public before creating a public link.")
    chosen = [k for k in PUBLIC_SECTIONS if k in sections]
    if not chosen:
        raise SharingError("Choose at least one section to show.")
    token = new_token()
    linkrepo.insert_public_link(db, token, session_id, chosen, user.id)
    insert_audit(db, user.id, "public_link.create", "session", session_id, {"sections": chosen})
    return token


def revoke_public_link(db: Database, user: User, session_id: str, token: str) -> None:
    require(db, user, Permission.MANAGE_SHARING, srepo.get_session(db, session_id))
    link = linkrepo.get_public_link(db, token)
    if link is None or link.session_id != session_id:
        raise SharingError("This link does not exist.")
    linkrepo.revoke_public_link(db, token)
    insert_audit(db, user.id, "public_link.revoke", "session", session_id, {})


def public_links(db: Database, user: User, session_id: str) -> list[PublicLink]:
    require(db, user, Permission.MANAGE_SHARING, srepo.get_session(db, session_id))
    return linkrepo.active_public_links(db, session_id)


def open_public_link(db: Database, token: str | None) -> PublicLink:
    """The link behind a public token, if it is live and its session still public; AccessDenied otherwise."""
    link = linkrepo.get_public_link(db, token) if token and len(token) <= 64 else None
    session = srepo.get_session(db, link.session_id) if link else None
    if link is None or link.revoked_at is not None or session is None or session.visibility != "public":
        raise AccessDenied("This link is not valid, or it has been revoked.")
    return link
