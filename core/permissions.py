"""Who may do what: the one place access is decided. Pages and commands call `require`.

Today a session is visible to its owner and to site admins; projects, roles and sharing grow here.
"""

from __future__ import annotations

from enum import Enum

from core.repos.sessions import SessionRow
from core.repos.users import User


class Permission(str, Enum):
    VIEW_RESULTS = "view results of"
    EDIT = "edit"
    DELETE = "delete"


class AccessDenied(Exception):
    """Shown to the user as is: it never says whether the resource exists."""


def can(user: User | None, permission: Permission, session: SessionRow | None) -> bool:
    if user is None or user.disabled or session is None:
        return False
    return session.owner_id == user.id or user.is_admin


def require(user: User | None, permission: Permission, session: SessionRow | None) -> SessionRow:
    """Return the session if `user` may act on it; raise AccessDenied otherwise (same message for missing)."""
    if user is None:
        raise AccessDenied("Please sign in to continue.")
    if not can(user, permission, session):
        raise AccessDenied("This session does not exist or you do not have access to it.")
    return session


def visible_owner_filter(user: User) -> str | None:
    """Owner id to filter the dashboard by; None means every session (admins)."""
    return None if user.is_admin else user.id
