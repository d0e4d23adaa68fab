"""SQL for projects: their rows, the sessions grouped in them, and their deletion."""

from __future__ import annotations

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
