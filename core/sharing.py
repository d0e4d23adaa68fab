"""Members, invitations, results visibility and public links of sessions and projects (all audited)."""

from __future__ import annotations

from core.db import Database
from core.ids import new_token
from core.permissions import (ROLES, VISIBILITY, AccessDenied, Permission, ProjectPermission, require,
                              require_project)
from core.repos import access as arepo
from core.repos import sessions as srepo
from core.repos import users as urepo
from core.repos.access import Invitation, Member, PublicLink
from core.repos.users import User

PUBLIC_SECTIONS = {"summary": "Summary", "themes": "Themes and chart", "quotes": "Quotes",
                   "transcripts": "Transcripts"}


class SharingError(Exception):
    """A request that cannot be carried out; the message is fit to show."""


def _check_resource(db: Database, user: User, resource_type: str, resource_id: str) -> None:
    """Only owners manage members of a session or project."""
    if resource_type == "session":
        require(db, user, Permission.MANAGE_MEMBERS, srepo.get_session(db, resource_id))
    elif resource_type == "project":
        require_project(db, user, ProjectPermission.MANAGE_MEMBERS, arepo.get_project(db, resource_id))
    else:
        raise AccessDenied("Unknown resource.")


def list_members(db: Database, user: User, resource_type: str, resource_id: str) -> list[Member]:
    _check_resource(db, user, resource_type, resource_id)
    return arepo.members(db, resource_type, resource_id)


def pending_invitations(db: Database, user: User, resource_type: str, resource_id: str) -> list[Invitation]:
    _check_resource(db, user, resource_type, resource_id)
    return arepo.pending_of_resource(db, resource_type, resource_id)


def invite(db: Database, user: User, resource_type: str, resource_id: str, invitee: str, role: str) -> Invitation:
    """Invite by username or email; the invitee accepts in the app after signing in."""
    _check_resource(db, user, resource_type, resource_id)
    invitee = invitee.strip()
    if role not in ROLES:
        raise SharingError(f"Choose a role among: {', '.join(ROLES)}.")
    if not invitee or len(invitee) > 254:
        raise SharingError("Enter a username or an email address.")
    target = urepo.get_by_username(db, invitee) or urepo.get_by_email(db, invitee)
    if target and any(m.user_id == target.id for m in arepo.members(db, resource_type, resource_id)):
        raise SharingError(f"{target.username} is already a member; change their role instead.")
    if any(i.invitee == invitee.lower() for i in arepo.pending_of_resource(db, resource_type, resource_id)):
        raise SharingError("An invitation to this person is already pending.")
    inv = arepo.insert_invitation(db, resource_type, resource_id, invitee, role, user.id)
    arepo.insert_audit(db, user.id, "member.invite", resource_type, resource_id, {"invitee": invitee, "role": role})
    return inv


def my_invitations(db: Database, user: User) -> list[tuple[Invitation, str]]:
    """Pending invitations addressed to the user, with the name of what they invite to."""
    result = []
    for inv in arepo.pending_for(db, user.username, user.email):
        if inv.resource_type == "session":
            s = srepo.get_session(db, inv.resource_id)
            name = f"session “{s.name}”" if s else None
        else:
            p = arepo.get_project(db, inv.resource_id)
            name = f"project “{p.title}”" if p else None
        if name:
            result.append((inv, name))
    return result


def answer_invitation(db: Database, user: User, invitation_id: str, accept: bool) -> None:
    inv = arepo.get_invitation(db, invitation_id)
    if inv is None or inv.status != "pending" or inv.invitee not in (user.username.lower(), user.email.lower()):
        raise SharingError("This invitation is no longer valid.")
    arepo.answer_invitation(db, inv, "accepted" if accept else "declined", user.id)
    arepo.insert_audit(db, user.id, "member.accept" if accept else "member.decline", inv.resource_type,
                       inv.resource_id, {"role": inv.role})


def revoke_invitation(db: Database, user: User, invitation_id: str) -> None:
    inv = arepo.get_invitation(db, invitation_id)
    if inv is None:
        raise SharingError("This invitation does not exist.")
    _check_resource(db, user, inv.resource_type, inv.resource_id)
    arepo.answer_invitation(db, inv, "revoked")
    arepo.insert_audit(db, user.id, "member.revoke_invitation", inv.resource_type, inv.resource_id,
                       {"invitee": inv.invitee})


def _owners(db: Database, resource_type: str, resource_id: str) -> list[str]:
    return [m.user_id for m in arepo.members(db, resource_type, resource_id) if m.role == "owner"]


def change_role(db: Database, user: User, resource_type: str, resource_id: str, member_id: str, role: str) -> None:
    _check_resource(db, user, resource_type, resource_id)
    if role not in ROLES:
        raise SharingError(f"Choose a role among: {', '.join(ROLES)}.")
    members = {m.user_id: m for m in arepo.members(db, resource_type, resource_id)}
    if member_id not in members:
        raise SharingError("This person is not a member.")
    if members[member_id].role == "owner" and role != "owner" and _owners(db, resource_type, resource_id) == [member_id]:
        raise SharingError("The last owner cannot be demoted: make someone else owner first.")
    arepo.set_role(db, resource_type, resource_id, member_id, role)
    arepo.insert_audit(db, user.id, "member.role", resource_type, resource_id,
                       {"member": members[member_id].username, "from": members[member_id].role, "to": role})


def remove_member(db: Database, user: User, resource_type: str, resource_id: str, member_id: str) -> None:
    _check_resource(db, user, resource_type, resource_id)
    members = {m.user_id: m for m in arepo.members(db, resource_type, resource_id)}
    if member_id not in members:
        raise SharingError("This person is not a member.")
    if members[member_id].role == "owner" and _owners(db, resource_type, resource_id) == [member_id]:
        raise SharingError("The last owner cannot be removed: transfer ownership first.")
    arepo.remove_member(db, resource_type, resource_id, member_id)
    arepo.insert_audit(db, user.id, "member.remove", resource_type, resource_id,
                       {"member": members[member_id].username})


def transfer_ownership(db: Database, user: User, resource_type: str, resource_id: str, new_owner: str) -> None:
    """Make `new_owner` (username or email of an existing account) owner; the current owner becomes editor."""
    _check_resource(db, user, resource_type, resource_id)
    target = urepo.get_by_username(db, new_owner.strip()) or urepo.get_by_email(db, new_owner.strip())
    if target is None or target.disabled:
        raise SharingError("No active account with that username or email.")
    if target.id == user.id:
        raise SharingError("You are already an owner.")
    arepo.set_role(db, resource_type, resource_id, target.id, "owner")
    arepo.set_role(db, resource_type, resource_id, user.id, "editor")
    arepo.insert_audit(db, user.id, "member.transfer", resource_type, resource_id, {"to": target.username})


def set_visibility(db: Database, user: User, session_id: str, visibility: str) -> None:
    s = require(db, user, Permission.MANAGE_SHARING, srepo.get_session(db, session_id))
    if visibility not in VISIBILITY:
        raise SharingError(f"Unknown visibility '{visibility}'.")
    srepo.update_session(db, session_id, visibility=visibility)
    arepo.insert_audit(db, user.id, "session.visibility", "session", session_id, {"from": s.visibility,
                                                                                 "to": visibility})


def create_public_link(db: Database, user: User, session_id: str, sections: list[str]) -> str:
    """A new unguessable read-only link; needs visibility 'public'."""
    s = require(db, user, Permission.MANAGE_SHARING, srepo.get_session(db, session_id))
    if s.visibility != "public":
        raise SharingError("Set results visibility to public before creating a public link.")
    chosen = [k for k in PUBLIC_SECTIONS if k in sections]
    if not chosen:
        raise SharingError("Choose at least one section to show.")
    token = new_token()
    arepo.insert_public_link(db, token, session_id, chosen, user.id)
    arepo.insert_audit(db, user.id, "public_link.create", "session", session_id, {"sections": chosen})
    return token


def revoke_public_link(db: Database, user: User, session_id: str, token: str) -> None:
    require(db, user, Permission.MANAGE_SHARING, srepo.get_session(db, session_id))
    link = arepo.get_public_link(db, token)
    if link is None or link.session_id != session_id:
        raise SharingError("This link does not exist.")
    arepo.revoke_public_link(db, token)
    arepo.insert_audit(db, user.id, "public_link.revoke", "session", session_id, {})


def public_links(db: Database, user: User, session_id: str) -> list[PublicLink]:
    require(db, user, Permission.MANAGE_SHARING, srepo.get_session(db, session_id))
    return arepo.active_public_links(db, session_id)


def open_public_link(db: Database, token: str | None) -> PublicLink:
    """The link behind a public token, if it is live and its session still public; AccessDenied otherwise."""
    link = arepo.get_public_link(db, token) if token and len(token) <= 64 else None
    session = srepo.get_session(db, link.session_id) if link else None
    if link is None or link.revoked_at is not None or session is None or session.visibility != "public":
        raise AccessDenied("This link is not valid, or it has been revoked.")
    return link
