"""Projects (workspaces): a title, a description, sessions, and members whose role covers every session."""

from __future__ import annotations

from core.db import Database
from core.permissions import AccessDenied, Permission, ProjectPermission, require, require_project
from core.repos import projects as projrepo
from core.repos import sessions as srepo
from core.repos.audit import insert_audit
from core.repos.projects import Project
from core.repos.users import User

TITLE_MAX, DESCRIPTION_MAX = 120, 2000


class ProjectError(Exception):
    """Invalid input; the message is fit to show."""


def _validate(title: str, description: str) -> tuple[str, str]:
    title, description = title.strip(), description.strip()
    if not 3 <= len(title) <= TITLE_MAX:
        raise ProjectError(f"The title must be 3 to {TITLE_MAX} characters.")
    if len(description) > DESCRIPTION_MAX:
        raise ProjectError(f"Keep the description under {DESCRIPTION_MAX} characters.")
    return title, description


def create_project(db: Database, user: User, title: str, description: str = "") -> Project:
    if user is None or user.disabled:
        raise AccessDenied("Please sign in to continue.")
    return projrepo.insert_project(db, *_validate(title, description), user.id)


def get_project(db: Database, user: User | None, project_id: str,
                permission: ProjectPermission = ProjectPermission.VIEW) -> Project:
    return require_project(db, user, permission, projrepo.get_project(db, project_id))


def update_project(db: Database, user: User, project_id: str, title: str, description: str) -> None:
    get_project(db, user, project_id, ProjectPermission.EDIT)
    projrepo.update_project(db, project_id, *_validate(title, description))


def my_projects(db: Database, user: User) -> list[tuple[Project, str]]:
    return projrepo.projects_of_user(db, user.id) if not user.disabled else []


def add_session(db: Database, user: User, project_id: str, session_id: str) -> None:
    """Editors of the project may add sessions they own; the project's members then reach the session."""
    get_project(db, user, project_id, ProjectPermission.EDIT)
    require(db, user, Permission.MANAGE_MEMBERS, srepo.get_session(db, session_id))
    projrepo.set_session_project(db, session_id, project_id)
    insert_audit(db, user.id, "project.add_session", "project", project_id, {"session": session_id})


def remove_session(db: Database, user: User, project_id: str, session_id: str) -> None:
    get_project(db, user, project_id, ProjectPermission.EDIT)
    s = srepo.get_session(db, session_id)
    if s is None or s.project_id != project_id:
        raise ProjectError("This session is not in the project.")
    projrepo.set_session_project(db, session_id, None)
    insert_audit(db, user.id, "project.remove_session", "project", project_id, {"session": session_id})


def project_session_ids(db: Database, user: User, project_id: str) -> list[str]:
    get_project(db, user, project_id)
    return projrepo.project_session_ids(db, project_id)


def delete_project(db: Database, user: User, project_id: str) -> None:
    p = get_project(db, user, project_id, ProjectPermission.DELETE)
    projrepo.delete_project_rows(db, project_id)
    insert_audit(db, user.id, "project.delete", "project", project_id, {"title": p.title})
