"""SQL for memberships: who holds which role on a session or project."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from core.clock import utcnow
from core.db import Database


@dataclass(frozen=True)
class Member:
    user_id: str
    username: str
    email: str
    role: str
    added_at: datetime


def roles_of(db: Database, user_id: str, resources: list[tuple[str, str]]) -> list[str]:
    """The user's roles on any of the (type, id) resources."""
    resources = [(t, i) for t, i in resources if i]
    if not resources:
        return []
    clause = " OR ".join("(resource_type = ? AND resource_id = ?)" for _ in resources)
    params = [user_id] + [v for pair in resources for v in pair]
    return [r[0] for r in db.fetchall(f"SELECT role FROM memberships WHERE user_id = ? AND ({clause})", params)]


def members(db: Database, resource_type: str, resource_id: str) -> list[Member]:
    rows = db.fetchall(
        "SELECT u.id, u.username, u.email, m.role, m.added_at FROM memberships m JOIN users u ON u.id = m.user_id "
        "WHERE m.resource_type = ? AND m.resource_id = ? ORDER BY m.added_at",
        [resource_type, resource_id],
    )
    return [Member(*r) for r in rows]


def set_role(db: Database, resource_type: str, resource_id: str, user_id: str, role: str) -> None:
    with db.write() as cur:
        cur.execute("DELETE FROM memberships WHERE resource_type = ? AND resource_id = ? AND user_id = ?",
                    [resource_type, resource_id, user_id])
        cur.execute("INSERT INTO memberships VALUES (?, ?, ?, ?, ?)",
                    [resource_type, resource_id, user_id, role, utcnow()])


def remove_member(db: Database, resource_type: str, resource_id: str, user_id: str) -> None:
    with db.write() as cur:
        cur.execute("DELETE FROM memberships WHERE resource_type = ? AND resource_id = ? AND user_id = ?",
                    [resource_type, resource_id, user_id])


def sole_ownerships(db: Database, user_id: str) -> list[str]:
    """Names of sessions and projects whose only owner is the user."""
    rows = db.fetchall(
        """
        SELECT m.resource_type, coalesce(s.name, p.title) FROM memberships m
        LEFT JOIN sessions s ON m.resource_type = 'session' AND s.id = m.resource_id
        LEFT JOIN projects p ON m.resource_type = 'project' AND p.id = m.resource_id
        WHERE m.user_id = ? AND m.role = 'owner' AND NOT EXISTS (
            SELECT 1 FROM memberships o WHERE o.resource_type = m.resource_type AND o.resource_id = m.resource_id
              AND o.role = 'owner' AND o.user_id <> m.user_id)
        """,
        [user_id],
    )
    return [f"{kind} “{name}”" for kind, name in rows]


def delete_user_memberships(db: Database, user_id: str) -> None:
    with db.write() as cur:
        cur.execute("DELETE FROM memberships WHERE user_id = ?", [user_id])


def visible_session_rows(db: Database, user_id: str) -> list[tuple[str, str, str]]:
    """(session id, role, visibility) for every session the user holds a role on, directly or by project."""
    return db.fetchall(
        """
        SELECT s.id, m.role, s.visibility FROM sessions s JOIN memberships m
          ON (m.resource_type = 'session' AND m.resource_id = s.id)
          OR (m.resource_type = 'project' AND m.resource_id = s.project_id)
        WHERE m.user_id = ?
        """,
        [user_id],
    )


def delete_memberships_of_resource(db: Database, resource_type: str, resource_id: str) -> None:
    with db.write() as cur:
        cur.execute("DELETE FROM memberships WHERE resource_type = ? AND resource_id = ?", [resource_type, resource_id])
        cur.execute("DELETE FROM invitations WHERE resource_type = ? AND resource_id = ?", [resource_type, resource_id])
