"""SQL for projects, memberships, invitations, public links, the audit log and app settings."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from core.clock import utcnow
from core.db import Database
from core.ids import new_id


@dataclass(frozen=True)
class Project:
    id: str
    title: str
    description: str
    created_by: str
    created_at: datetime


@dataclass(frozen=True)
class Member:
    user_id: str
    username: str
    email: str
    role: str
    added_at: datetime


@dataclass(frozen=True)
class Invitation:
    id: str
    resource_type: str
    resource_id: str
    invitee: str
    role: str
    invited_by: str
    status: str                      # pending | accepted | declined | revoked | expired
    created_at: datetime
    expires_at: datetime | None
    accepted_by: str | None


@dataclass(frozen=True)
class PublicLink:
    token: str
    session_id: str
    sections: list[str]
    created_at: datetime
    revoked_at: datetime | None


# --- projects ---------------------------------------------------------------------------------------------

def insert_project(db: Database, title: str, description: str, owner_id: str) -> Project:
    project = Project(new_id(), title, description, owner_id, utcnow())
    with db.write() as cur:
        cur.execute("INSERT INTO projects VALUES (?, ?, ?, ?, ?)",
                    [project.id, title, description, owner_id, project.created_at])
        cur.execute("INSERT INTO memberships VALUES ('project', ?, ?, 'owner', ?)",
                    [project.id, owner_id, project.created_at])
    return project


def get_project(db: Database, project_id: str) -> Project | None:
    row = db.fetchone("SELECT id, title, description, created_by, created_at FROM projects WHERE id = ?",
                      [project_id])
    return Project(*row) if row else None


def update_project(db: Database, project_id: str, title: str, description: str) -> None:
    with db.write() as cur:
        cur.execute("UPDATE projects SET title = ?, description = ? WHERE id = ?", [title, description, project_id])


def projects_of_user(db: Database, user_id: str) -> list[tuple[Project, str]]:
    rows = db.fetchall(
        "SELECT p.id, p.title, p.description, p.created_by, p.created_at, m.role FROM projects p "
        "JOIN memberships m ON m.resource_type = 'project' AND m.resource_id = p.id WHERE m.user_id = ? "
        "ORDER BY p.title",
        [user_id],
    )
    return [(Project(*r[:5]), r[5]) for r in rows]


def set_session_project(db: Database, session_id: str, project_id: str | None) -> None:
    with db.write() as cur:
        cur.execute("UPDATE sessions SET project_id = ?, updated_at = ? WHERE id = ?",
                    [project_id, utcnow(), session_id])


def project_session_ids(db: Database, project_id: str) -> list[str]:
    return [r[0] for r in db.fetchall("SELECT id FROM sessions WHERE project_id = ? ORDER BY name", [project_id])]


def delete_project_rows(db: Database, project_id: str) -> None:
    """Detach its sessions and remove the project (sessions themselves stay, with their own members)."""
    with db.write() as cur:
        cur.execute("UPDATE sessions SET project_id = NULL WHERE project_id = ?", [project_id])
        cur.execute("DELETE FROM memberships WHERE resource_type = 'project' AND resource_id = ?", [project_id])
        cur.execute("DELETE FROM invitations WHERE resource_type = 'project' AND resource_id = ?", [project_id])
    with db.write() as cur:
        cur.execute("DELETE FROM projects WHERE id = ?", [project_id])


# --- memberships ------------------------------------------------------------------------------------------

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


# --- invitations ------------------------------------------------------------------------------------------

def insert_invitation(db: Database, resource_type: str, resource_id: str, invitee: str, role: str,
                      invited_by: str, code_hash: str, expires_at: datetime) -> Invitation:
    """Store a pending invitation; only the hash of its code is kept."""
    inv = Invitation(new_id(), resource_type, resource_id, invitee, role, invited_by, "pending", utcnow(),
                     expires_at, None)
    with db.write() as cur:
        cur.execute("INSERT INTO invitations (id, resource_type, resource_id, invitee, role, invited_by, status, "
                    "created_at, code_hash, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [inv.id, inv.resource_type, inv.resource_id, inv.invitee, inv.role, inv.invited_by, inv.status,
                     inv.created_at, code_hash, expires_at])
    return inv


_INV = "id, resource_type, resource_id, invitee, role, invited_by, status, created_at, expires_at, accepted_by"


def pending_of_resource(db: Database, resource_type: str, resource_id: str) -> list[Invitation]:
    """Invitations of a session or project still pending (expired ones included, for the inviter to see)."""
    rows = db.fetchall(f"SELECT {_INV} FROM invitations WHERE status = 'pending' AND resource_type = ? "
                       "AND resource_id = ? ORDER BY created_at", [resource_type, resource_id])
    return [Invitation(*r) for r in rows]


def get_invitation(db: Database, invitation_id: str) -> Invitation | None:
    """One invitation by id."""
    row = db.fetchone(f"SELECT {_INV} FROM invitations WHERE id = ?", [invitation_id])
    return Invitation(*row) if row else None


def invitation_by_code_hash(db: Database, code_hash: str) -> Invitation | None:
    """The invitation whose code hashes to `code_hash`, whatever its status."""
    row = db.fetchone(f"SELECT {_INV} FROM invitations WHERE code_hash = ?", [code_hash])
    return Invitation(*row) if row else None


def claim_invitation(db: Database, invitation_id: str, user_id: str, now: datetime) -> bool:
    """Accept a pending, unexpired invitation for `user_id` and grant its role, in one transaction.

    False (and nothing changed) when it was already answered, revoked or expired: the status is read and
    written under the database's single write lock, so a code is claimed once even by concurrent requests.
    """
    with db.write() as cur:
        row = cur.execute("SELECT status, expires_at, resource_type, resource_id, role FROM invitations "
                          "WHERE id = ?", [invitation_id]).fetchone()
        if row is None or row[0] != "pending" or row[1] is None or row[1] <= now:
            return False
        _, _, resource_type, resource_id, role = row
        cur.execute("UPDATE invitations SET status = 'accepted', answered_at = ?, accepted_by = ? WHERE id = ?",
                    [now, user_id, invitation_id])
        existing = cur.execute(
            "SELECT role FROM memberships WHERE resource_type = ? AND resource_id = ? AND user_id = ?",
            [resource_type, resource_id, user_id]).fetchone()
        if existing is None:
            cur.execute("INSERT INTO memberships VALUES (?, ?, ?, ?, ?)",
                        [resource_type, resource_id, user_id, role, now])
    return True


def close_invitation(db: Database, invitation_id: str, status: str) -> bool:
    """Mark a pending invitation declined or revoked; False when it was no longer pending."""
    with db.write() as cur:
        row = cur.execute("SELECT status FROM invitations WHERE id = ?", [invitation_id]).fetchone()
        if row is None or row[0] != "pending":
            return False
        cur.execute("UPDATE invitations SET status = ?, answered_at = ? WHERE id = ?",
                    [status, utcnow(), invitation_id])
    return True


# --- public links -----------------------------------------------------------------------------------------

def insert_public_link(db: Database, token: str, session_id: str, sections: list[str], created_by: str) -> None:
    with db.write() as cur:
        cur.execute("INSERT INTO public_links VALUES (?, ?, ?, ?, ?, NULL)",
                    [token, session_id, json.dumps(sections), created_by, utcnow()])


def get_public_link(db: Database, token: str) -> PublicLink | None:
    row = db.fetchone("SELECT token, session_id, sections, created_at, revoked_at FROM public_links WHERE token = ?",
                      [token])
    return PublicLink(row[0], row[1], json.loads(row[2]), row[3], row[4]) if row else None


def active_public_links(db: Database, session_id: str) -> list[PublicLink]:
    rows = db.fetchall("SELECT token, session_id, sections, created_at, revoked_at FROM public_links "
                       "WHERE session_id = ? AND revoked_at IS NULL ORDER BY created_at", [session_id])
    return [PublicLink(r[0], r[1], json.loads(r[2]), r[3], r[4]) for r in rows]


def revoke_public_link(db: Database, token: str) -> None:
    with db.write() as cur:
        cur.execute("UPDATE public_links SET revoked_at = ? WHERE token = ? AND revoked_at IS NULL",
                    [utcnow(), token])


def revoke_public_links_of_session(db: Database, session_id: str) -> list[str]:
    """Revoke every active public link of a session; return the tokens revoked."""
    with db.write() as cur:
        tokens = [r[0] for r in cur.execute(
            "SELECT token FROM public_links WHERE session_id = ? AND revoked_at IS NULL ORDER BY created_at",
            [session_id]).fetchall()]
        if tokens:
            cur.execute("UPDATE public_links SET revoked_at = ? WHERE session_id = ? AND revoked_at IS NULL",
                        [utcnow(), session_id])
    return tokens


# --- audit log --------------------------------------------------------------------------------------------

def insert_audit(db: Database, actor_id: str | None, action: str, resource_type: str, resource_id: str,
                 detail: dict) -> None:
    with db.write() as cur:
        cur.execute("INSERT INTO audit_log VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [new_id(), utcnow(), actor_id, action, resource_type, resource_id, json.dumps(detail)])


def audit_frame(db: Database, limit: int = 500):
    return db.fetchdf(
        "SELECT a.created_at, coalesce(u.username, '(command line)') AS actor, a.action, a.resource_type, "
        "a.resource_id, a.detail FROM audit_log a LEFT JOIN users u ON u.id = a.actor_id "
        "ORDER BY a.created_at DESC LIMIT ?",
        [limit],
    )


# --- app settings and login failures ----------------------------------------------------------------------

def get_setting(db: Database, key: str, default: str) -> str:
    row = db.fetchone("SELECT value FROM app_settings WHERE key = ?", [key])
    return row[0] if row else default


def set_setting(db: Database, key: str, value: str) -> None:
    with db.write() as cur:
        cur.execute("DELETE FROM app_settings WHERE key = ?", [key])
        cur.execute("INSERT INTO app_settings VALUES (?, ?)", [key, value])


def login_failures(db: Database) -> dict[str, tuple[int, datetime]]:
    return {u: (n, at) for u, n, at in db.fetchall("SELECT username, failures, last_at FROM login_failures")}


def set_login_failures(db: Database, username: str, failures: int) -> None:
    with db.write() as cur:
        cur.execute("DELETE FROM login_failures WHERE username = ?", [username])
        if failures:
            cur.execute("INSERT INTO login_failures VALUES (?, ?, ?)", [username, failures, utcnow()])
