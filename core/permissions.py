"""Who may do what: the one place access is decided. Pages and commands call `require` on every run.

A user's role on a session is the highest of their role on the session itself and on the project the
session belongs to (so a project member's role covers sessions added later). Owners and editors see
everything of a session; viewers see its results only when the owner opened results to members, and only
read them: whatever every member sees (synthesis runs, pinned insights, codebook, include/exclude) is changed
only with WRITE_RESULTS, held by editors and owners.
Site admins manage accounts and read the audit log; they get no implicit access to session content.
"""

from __future__ import annotations

from enum import Enum

from core.db import Database
from core.repos import memberships as mrepo
from core.repos.projects import Project
from core.repos.sessions import SessionRow
from core.repos.users import User

ROLES = ("viewer", "editor", "owner")
ROLE_RANK = {role: rank for rank, role in enumerate(ROLES, start=1)}
VISIBILITY = {
    "editors": "Owners and editors only",
    "members": "All members (viewers too)",
    "participants": "Members, and participants see the summary and themes",
    "public": "Members, and anyone with a public link (sections you choose)",
}


class Permission(str, Enum):
    VIEW_RESULTS = "view results"
    VIEW_TRANSCRIPTS = "read transcripts"
    VIEW_IDENTIFYING = "see identifying answers"
    EXPORT = "export"
    EDIT = "edit"
    WRITE_RESULTS = "change shared results"   # run the synthesis, pin insights, codebook, include/exclude
    DELETE = "delete"
    MANAGE_MEMBERS = "manage members"
    MANAGE_SHARING = "manage sharing"


class ProjectPermission(str, Enum):
    VIEW = "view"
    EDIT = "edit"
    MANAGE_MEMBERS = "manage members"
    DELETE = "delete"


# The least role each permission needs (VIEW_RESULTS for viewers also depends on the session's visibility).
MIN_ROLE = {
    Permission.VIEW_RESULTS: "viewer",
    Permission.VIEW_TRANSCRIPTS: "editor",
    Permission.VIEW_IDENTIFYING: "editor",
    Permission.EXPORT: "editor",
    Permission.EDIT: "editor",
    Permission.WRITE_RESULTS: "editor",     # viewers read results; they never change what every member sees
    Permission.DELETE: "owner",
    Permission.MANAGE_MEMBERS: "owner",
    Permission.MANAGE_SHARING: "owner",
}
PROJECT_MIN_ROLE = {
    ProjectPermission.VIEW: "viewer",
    ProjectPermission.EDIT: "editor",
    ProjectPermission.MANAGE_MEMBERS: "owner",
    ProjectPermission.DELETE: "owner",
}


class AccessDenied(Exception):
    """Shown to the user as is: it never says whether the resource exists."""


def highest(roles: list[str]) -> str | None:
    return max(roles, key=ROLE_RANK.__getitem__) if roles else None


def session_role(db: Database, user: User | None, session: SessionRow | None) -> str | None:
    if user is None or user.disabled or session is None:
        return None
    return highest(mrepo.roles_of(db, user.id, [("session", session.id), ("project", session.project_id)]))


def role_allows(role: str | None, permission: Permission, visibility: str) -> bool:
    if role is None or ROLE_RANK[role] < ROLE_RANK[MIN_ROLE[permission]]:
        return False
    if permission is Permission.VIEW_RESULTS and role == "viewer":
        return visibility != "editors"
    return True


def can(db: Database, user: User | None, permission: Permission, session: SessionRow | None) -> bool:
    role = session_role(db, user, session)
    return session is not None and role_allows(role, permission, session.visibility)


def require(db: Database, user: User | None, permission: Permission, session: SessionRow | None) -> SessionRow:
    """Return the session if `user` may act on it; raise AccessDenied otherwise (same message for missing)."""
    if user is None:
        raise AccessDenied("Please sign in to continue.")
    return require_role(user, session_role(db, user, session), permission, session)


def require_role(user: User | None, role: str | None, permission: Permission, session: SessionRow | None) -> SessionRow:
    """`require` for a role already looked up (session_role), without reading the database again: what an object
    that checked access once (core.results.SessionResults) asks before each write."""
    if user is None:
        raise AccessDenied("Please sign in to continue.")
    if session is None or not role_allows(role, permission, session.visibility):
        raise AccessDenied("This session does not exist or you do not have access to it.")
    return session


def project_role(db: Database, user: User | None, project: Project | None) -> str | None:
    if user is None or user.disabled or project is None:
        return None
    return highest(mrepo.roles_of(db, user.id, [("project", project.id)]))


def require_project(db: Database, user: User | None, permission: ProjectPermission,
                    project: Project | None) -> Project:
    if user is None:
        raise AccessDenied("Please sign in to continue.")
    role = project_role(db, user, project)
    if role is None or ROLE_RANK[role] < ROLE_RANK[PROJECT_MIN_ROLE[permission]]:
        raise AccessDenied("This project does not exist or you do not have access to it.")
    return project


def require_admin(user: User | None) -> User:
    if user is None:
        raise AccessDenied("Please sign in to continue.")
    if not user.is_admin or user.disabled:
        raise AccessDenied("This page is for site administrators.")
    return user


def visible_session_ids(db: Database, user: User) -> dict[str, str]:
    """Session id -> the user's effective role, for sessions whose results or design they may open."""
    if user.disabled:
        return {}
    best: dict[str, str] = {}
    visibility: dict[str, str] = {}
    for session_id, role, vis in mrepo.visible_session_rows(db, user.id):
        best[session_id] = highest([role] + ([best[session_id]] if session_id in best else []))
        visibility[session_id] = vis
    return {sid: role for sid, role in best.items() if role_allows(role, Permission.VIEW_RESULTS, visibility[sid])}
