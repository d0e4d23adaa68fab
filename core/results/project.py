"""The same synthesis across the sessions of a project: themes counted over all of them, with a per-session
breakdown. A user gets the project's sessions whose results they may see (Permission.VIEW_RESULTS on each), never
more: a viewer of the project does not see sessions whose owner kept results to editors. Access is checked here,
per project (core.results.SessionResults is per session).

Scope key: "project:<id>:<hash of the sorted session ids>". Runs are stored (and incrementally updated, and looked
up) per scope, so a run is only ever shown to someone whose visible set of sessions is exactly the set it was built
from, and adding or removing a session (or a visibility change) starts a new scope instead of updating a run built
over another set. That is simpler and safer than one "project:<id>" scope whose runs would have to be filtered by
their session_ids on every read (and whose incremental updates would mix sets). Runs of an earlier set stay stored
under their own scope and become current again if the set returns to it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from core.db import Database
from core.permissions import AccessDenied, Permission, ProjectPermission, can, require_project
from core.repos import projects as projrepo
from core.repos import sessions as srepo
from core.repos import synthesis as synrepo
from core.repos.projects import Project
from core.repos.sessions import SessionRow
from core.repos.users import User
from core.results.synthesis import SynthesisView, run_view
from core.synthesis import pipeline
from core.synthesis.models import synthesis_model


class ProjectSynthesisError(Exception):
    """Nothing to synthesise; the message is fit to show."""


def project_scope(project_id: str, session_ids: list[str]) -> str:
    ids = sorted(set(session_ids))
    return f"project:{project_id}:" + hashlib.sha256(",".join(ids).encode()).hexdigest()[:12]


@dataclass
class ProjectView:
    project: Project
    sessions: list[SessionRow]          # the sessions included for this user, by name
    hidden: int                         # sessions of the project left out (their results are not open to this user)
    scope: str
    view: SynthesisView | None          # None before the first run over exactly these sessions
    session_sizes: dict[str, int] = field(default_factory=dict)   # session id -> analysed participants in the run
    can_write: bool = False             # may run the project synthesis (changes what other members see)

    @property
    def session_names(self) -> dict[str, str]:
        return {s.id: s.name for s in self.sessions}


def _project_sessions(db: Database, user: User | None, project_id: str) -> tuple[Project, list[SessionRow], int]:
    project = require_project(db, user, ProjectPermission.VIEW, projrepo.get_project(db, project_id))
    rows = [srepo.get_session(db, sid) for sid in projrepo.project_session_ids(db, project.id)]
    rows = [s for s in rows if s is not None]
    included = [s for s in rows if can(db, user, Permission.VIEW_RESULTS, s)]
    return project, included, len(rows) - len(included)


def project_view(db: Database, user: User | None, project_id: str) -> ProjectView:
    """The latest project synthesis over the project's sessions this user may see (AccessDenied for non-members)."""
    project, sessions, hidden = _project_sessions(db, user, project_id)
    ids = [s.id for s in sessions]
    scope = project_scope(project.id, ids)
    writer = _may_write_all(db, user, sessions)
    run = synrepo.latest_run(db, scope) if ids else None
    if run is None:
        return ProjectView(project, sessions, hidden, scope, None, can_write=writer)
    names = {s.id: s.name for s in sessions}
    frame = synrepo.participants_frame(db, ids)
    labels = {r.participant_id: f"Participant {r.number} · {names.get(r.session_id, '')}"
              for r in frame.itertuples(index=False)}
    view = run_view(db, None, run, labels)
    sizes = run.stats.get("participants_by_session")
    if sizes is None:   # runs stored before this count was kept: participants with a statement
        sizes = view.statements.groupby("session_id")["participant_id"].nunique().to_dict()
    return ProjectView(project, sessions, hidden, scope, view, {sid: int(sizes.get(sid, 0)) for sid in ids},
                       can_write=writer)


def _may_write_all(db: Database, user: User | None, sessions: list[SessionRow]) -> bool:
    """Whether the user may change the shared results of every one of these sessions (editor or owner of each)."""
    return bool(sessions) and all(can(db, user, Permission.WRITE_RESULTS, s) for s in sessions)


def run_project_synthesis(db: Database, user: User | None, project_id: str, *, mode: str = "offline",
                          progress: pipeline.Progress | None = None, trigger: str = "manual",
                          params: pipeline.Params | None = None) -> pipeline.RunOutcome:
    """Run and store a synthesis over the project's sessions whose results the user may see. The run is shared with
    the project's members, so it needs WRITE_RESULTS on each of those sessions (a project viewer only reads)."""
    project, sessions, _hidden = _project_sessions(db, user, project_id)
    ids = sorted(s.id for s in sessions)
    if not ids:
        raise ProjectSynthesisError("This project has no session whose results you may see.")
    if not _may_write_all(db, user, sessions):
        raise AccessDenied("Viewers read the project synthesis; an editor or owner runs it.")
    return pipeline.synthesize(db, ids, progress=progress, trigger=trigger, params=params,
                               scope=project_scope(project.id, ids), model=synthesis_model(db, ids, mode))
