"""What the results page shows, computed from the database (access checked here)."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from core.db import Database
from core.permissions import AccessDenied, Permission, can
from core.repos import participants as prepo
from core.repos import sessions as srepo
from core.repos.participants import load_json_list
from core.repos.sessions import SessionRow
from core.repos.users import User
from core.sessions import get_for


@dataclass(frozen=True)
class Results:
    session: SessionRow
    participants: pd.DataFrame      # one row per participant, form answers as columns
    started: int
    finished: int
    included: int


def session_results(db: Database, user: User | None, session_id: str) -> Results:
    """Participation and the participants table (form answers as columns).

    Answers to identifying fields (names, emails) are left out unless the user may see them.
    """
    session = get_for(db, user, session_id, Permission.VIEW_RESULTS)
    table = prepo.participants_frame(db, session.id)
    form = srepo.get_form(db, session.id)
    if not can(db, user, Permission.VIEW_IDENTIFYING, session):
        form = [f for f in form if not (f.identifying or f.type == "email")]
    answers = prepo.form_answers_frame(db, session.id)
    answers = answers[answers["field_key"].isin([f.key for f in form])]
    if not answers.empty:
        wide = answers.pivot(index="participant_id", columns="field_key", values="value")
        table = table.merge(wide, how="left", left_on="id", right_index=True)
    for f in form:
        if f.key not in table.columns:
            table[f.key] = None
        elif f.type == "multiple_choice":
            table[f.key] = table[f.key].map(lambda v: ", ".join(load_json_list(v)) if isinstance(v, str) else v)
    table = table.rename(columns={f.key: f.label for f in form})
    table.insert(0, "participant", table["number"].map(lambda n: f"Participant {n}"))
    real = table[~table["simulated"]]
    counted = real[real["included"] & (real["messages"] > 0)]
    return Results(session, table, len(real), int((real["status"] == "finished").sum()), len(counted))


def transcript(db: Database, user: User | None, session_id: str, participant_id: str) -> list[prepo.Message]:
    session = get_for(db, user, session_id, Permission.VIEW_TRANSCRIPTS)
    participant = prepo.get_participant(db, participant_id)
    if participant is None or participant.session_id != session.id:
        return []
    return prepo.list_messages(db, participant_id)


def set_included(db: Database, user: User, session_id: str, participant_id: str, included: bool) -> None:
    session = get_for(db, user, session_id, Permission.EDIT)
    participant = prepo.get_participant(db, participant_id)
    if participant is not None and participant.session_id == session.id:
        prepo.update_participant(db, participant_id, included=included)
        from core import refresh

        refresh.request(db, session.id, "participant included" if included else "participant excluded")


# ------------------------------------------------------------------------------------- synthesis
# Everything below reads stored synthesis runs (core/synthesis/pipeline.py). Each function checks access.

import json  # noqa: E402
from dataclasses import field  # noqa: E402

from core.repos import synthesis as synrepo  # noqa: E402
from core.repos.synthesis import Run  # noqa: E402
from core.synthesis import pipeline  # noqa: E402
from core.synthesis.ask import AskAnswer, retrieve  # noqa: E402
from core.synthesis.coverage import coverage_matrix  # noqa: E402
from core.synthesis.segments import SegmentTable, segment_table  # noqa: E402
from core.text import word_count  # noqa: E402


def capabilities(db: Database, user: User | None, session_id: str) -> dict[str, bool]:
    """What the results page may offer this user: transcripts, edits (include/exclude, codebook), exports."""
    session = srepo.get_session(db, session_id)
    return {name: can(db, user, permission, session) for name, permission in
            (("transcripts", Permission.VIEW_TRANSCRIPTS), ("edit", Permission.EDIT), ("export", Permission.EXPORT))}


@dataclass
class QuoteView:
    ref: str                # "Q2.1": theme 2, quote 1 (the summary cites these)
    statement_id: str
    message_id: str
    participant_id: str
    participant: str        # "Participant 7"
    text: str
    step: int
    question: str


@dataclass
class ThemeView:
    theme_id: str
    position: int
    label: str
    description: str
    keywords: list[str]
    participants: int
    mentions: int
    share: float            # of analysed participants, 0..100
    sentiment: dict[str, int]
    quotes: list[QuoteView] = field(default_factory=list)
    origin: str = "cluster"
    sessions: dict[str, int] = field(default_factory=dict)   # session id -> distinct participants raising it


@dataclass
class SynthesisView:
    session: SessionRow | None      # None for a project view (ProjectView.sessions lists its sessions)
    run: Run
    themes: list[ThemeView]
    statements: pd.DataFrame
    analysed: int           # included participants with at least one answer (the share denominator)
    up_to_date: bool
    runs: list[Run]


def _names(db: Database, session_ids: list[str]) -> dict[str, str]:
    frame = synrepo.participants_frame(db, session_ids)
    return {r.participant_id: f"Participant {r.number}" for r in frame.itertuples(index=False)}


def synthesis_view(db: Database, user: User | None, session_id: str, run_id: str | None = None) -> SynthesisView | None:
    """The run to show (latest, or `run_id` when it belongs to this session), or None before the first run."""
    return _build_view(db, get_for(db, user, session_id, Permission.VIEW_RESULTS), run_id)


@dataclass(frozen=True)
class PublicResults:
    session: SessionRow
    sections: list[str]
    view: "SynthesisView | None"
    transcripts: list[tuple[int, list[prepo.Message]]]   # (participant number, messages), when shared


def public_view(db: Database, token: str | None) -> PublicResults:
    """What a live public link shows (only its sections); AccessDenied when it is unknown or revoked."""
    from core.sharing import open_public_link

    link = open_public_link(db, token)
    session = srepo.get_session(db, link.session_id)
    transcripts = []
    if "transcripts" in link.sections:
        transcripts = [(p.number, prepo.list_messages(db, p.id)) for p in prepo.list_participants(db, session.id)
                       if p.included and not p.simulated]
    return PublicResults(session, link.sections, _build_view(db, session), transcripts)


def participant_view(db: Database, token: str | None) -> SynthesisView | None:
    """Summary and themes for a participant of the session, when the owner opened results to participants.

    Quotes are removed: participants never see other people's words.
    """
    participant = prepo.get_by_token(db, token) if token else None
    session = srepo.get_session(db, participant.session_id) if participant else None
    if session is None or session.visibility not in ("participants", "public"):
        raise AccessDenied("The organisers have not shared the results with participants.")
    view = _build_view(db, session)
    if view is not None:
        for theme in view.themes:
            theme.quotes = []
    return view


def _build_view(db: Database, session: SessionRow, run_id: str | None = None) -> SynthesisView | None:
    """The view of a run, for a session whose access the caller has already checked."""
    run = synrepo.get_run(db, run_id) if run_id else synrepo.latest_run(db, session.id)
    if run is None or run.scope != session.id or run.status != "done":
        run = synrepo.latest_run(db, session.id)
    if run is None:
        return None
    return _run_view(db, session, run, _names(db, [session.id]))


def _run_view(db: Database, session: SessionRow | None, run: Run, names: dict[str, str]) -> SynthesisView:
    """Themes with their quotes (named by `names`: participant id -> label) and per-session counts of a done run."""
    statements = synrepo.statements_frame(db, run.id)
    by_id = statements.set_index("statement_id")
    assigned = statements.dropna(subset=["theme_id"])
    per_session = assigned.groupby(["theme_id", "session_id"])["participant_id"].nunique()
    analysed = int(run.stats.get("participants", 0))
    themes = []
    for r in synrepo.themes_frame(db, run.id).itertuples(index=False):
        quotes = []
        for i, sid in enumerate(json.loads(r.quotes), start=1):
            if sid not in by_id.index:
                continue
            s = by_id.loc[sid]
            quotes.append(QuoteView(f"Q{r.position + 1}.{i}", sid, s["message_id"], s["participant_id"],
                                    names.get(s["participant_id"], "Participant"), s["text"], int(s["step"]),
                                    s["question"]))
        sessions = {str(k[1]): int(v) for k, v in per_session.items() if k[0] == r.theme_id}
        themes.append(ThemeView(r.theme_id, int(r.position), r.label, r.description, json.loads(r.keywords),
                                int(r.participants), int(r.mentions),
                                100.0 * r.participants / analysed if analysed else 0.0, json.loads(r.sentiment),
                                quotes, r.origin, sessions))
    latest = synrepo.latest_run(db, run.scope)
    up_to_date = (latest is not None and latest.id == run.id
                  and pipeline.current_input_hash(db, run.session_ids, _params(run), run.mode, run.embedder)
                  == run.input_hash)
    return SynthesisView(session, run, themes, statements, analysed, up_to_date, synrepo.list_runs(db, run.scope))


def _params(run: Run) -> pipeline.Params:
    return pipeline.Params(**{k: v for k, v in run.params.items() if k in pipeline.Params.__dataclass_fields__})


def synthesis_status(db: Database, user: User | None, session_id: str) -> dict:
    """Cheap status for the page header: the latest run, whether it is current, and a run in progress."""
    session = get_for(db, user, session_id, Permission.VIEW_RESULTS)
    latest = synrepo.latest_run(db, session.id)
    running = synrepo.latest_run(db, session.id, status="running")
    current = pipeline.current_input_hash(db, [session.id], _params(latest) if latest else None,
                                          latest.mode if latest else "offline",
                                          latest.embedder if latest else pipeline.TfidfLsa.name)
    return {"latest": latest, "running": running is not None and (latest is None or running.created_at >
                                                                  latest.created_at),
            "up_to_date": latest is not None and latest.input_hash == current}


def run_synthesis(db: Database, user: User | None, session_id: str, *, mode: str = "offline",
                  progress: pipeline.Progress | None = None, trigger: str = "manual",
                  params: pipeline.Params | None = None) -> pipeline.RunOutcome:
    """Run and store a synthesis. Model mode needs a configured model; without one it runs offline (the run
    records the mode it actually used)."""
    session = get_for(db, user, session_id, Permission.VIEW_RESULTS)
    hooks = _hooks(db, mode, [session.id])
    return pipeline.synthesize(db, [session.id], progress=progress, trigger=trigger,
                               mode="model" if hooks else "offline", params=params, **hooks)


def _hooks(db: Database, mode: str, session_ids: list[str]) -> dict:
    """Model-mode hooks for pipeline.synthesize, or {} (offline) when the mode is offline or no model is set."""
    if mode != "model":
        return {}
    from core.synthesis.model_mode import model_hooks

    return model_hooks(db, session_ids) or {}


@dataclass
class Overview:
    started: int
    finished: int
    included: int
    median_answer_words: float
    completion_by_step: pd.DataFrame   # step, question, participants reaching it, answered it


def overview(db: Database, user: User | None, session_id: str) -> Overview:
    session = get_for(db, user, session_id, Permission.VIEW_RESULTS)
    people = synrepo.participants_frame(db, [session.id])
    real = people[~people["simulated"]]
    answers = synrepo.answers_frame(db, [session.id])
    answers = answers[~answers["simulated"]]
    words = answers.loc[answers["kind"] == "answer", "content"].map(word_count)
    guide = srepo.get_guide_version(db, session.id, session.guide_version) if session.guide_version else None
    steps = guide.steps if guide else []
    rows = []
    for i, s in enumerate(steps):
        at = answers[answers["step"] == i]
        rows.append({"step": i + 1, "question": s.question, "critical item": s.critical_item or "",
                     "reached": int(at["participant_id"].nunique()),
                     "answered": int(at.loc[at["kind"] == "answer", "participant_id"].nunique())})
    return Overview(len(real), int((real["status"] == "finished").sum()), int(real["included"].sum()),
                    float(words.median()) if len(words) else 0.0, pd.DataFrame(rows))


def segment_fields(db: Database, user: User | None, session_id: str) -> dict[str, str]:
    session = get_for(db, user, session_id, Permission.VIEW_RESULTS)
    return {f.key: f.label for f in srepo.get_form(db, session.id) if f.type not in ("consent", "email")}


def segments(db: Database, user: User | None, view: SynthesisView, field_key: str) -> SegmentTable:
    session = get_for(db, user, view.session.id, Permission.VIEW_RESULTS)
    answers = synrepo.form_answers_frame(db, [session.id])
    values = answers[answers["field_key"] == field_key].set_index("participant_id")["value"]
    values = values.map(lambda v: ", ".join(load_json_list(v)) if isinstance(v, str) and v.startswith("[") else v)
    analysed = view.statements["participant_id"].unique()
    groups = pd.Series({p: values.get(p) for p in analysed}, dtype=object)
    members = view.statements.loc[view.statements["theme_id"].notna(), ["participant_id", "theme_id"]]
    label = segment_fields(db, user, session.id).get(field_key, field_key)
    return segment_table(members, groups, [(t.theme_id, t.label) for t in view.themes], label)


def coverage(db: Database, user: User | None, session_id: str) -> pd.DataFrame:
    session = get_for(db, user, session_id, Permission.VIEW_RESULTS)
    answers = synrepo.answers_frame(db, [session.id])
    answers = answers[answers["included"] & ~answers["simulated"]]
    people = synrepo.participants_frame(db, [session.id])
    people = people[people["included"] & ~people["simulated"]]
    people = people.assign(label=people["number"].map(lambda n: f"P{n}"))
    items = {k: v[1] for k, v in pipeline.question_map(db, [session.id]).items()}
    return coverage_matrix(answers, items, people[["participant_id", "label"]])


def ask(db: Database, user: User | None, view: SynthesisView, question: str, mode: str = "auto") -> AskAnswer:
    """Retrieve the closest quotes and themes; in model mode ("auto": when a model is configured) the model writes
    the answer from those quotes only."""
    get_for(db, user, view.session.id, Permission.VIEW_RESULTS)
    labels = {t.theme_id: t.label for t in view.themes}
    answer = retrieve(question, view.statements, labels)
    if mode != "offline" and answer.citations:
        from core.synthesis.model_mode import model_answer

        answer = model_answer(answer, db, [view.session.id])
    return answer


def pin_insight(db: Database, user: User, session_id: str, answer: AskAnswer, run_id: str | None) -> str:
    session = get_for(db, user, session_id, Permission.VIEW_RESULTS)
    cites = [{"ref": c.ref, "statement_id": c.statement_id, "message_id": c.message_id, "text": c.text}
             for c in answer.citations]
    return synrepo.add_pin(db, session.id, answer.question, answer.answer, cites, run_id, user.id)


def pinned_insights(db: Database, user: User | None, session_id: str) -> list[dict]:
    session = get_for(db, user, session_id, Permission.VIEW_RESULTS)
    return synrepo.list_pins(db, session.id)


def unpin_insight(db: Database, user: User, session_id: str, pin_id: str) -> None:
    session = get_for(db, user, session_id, Permission.VIEW_RESULTS)
    synrepo.delete_pin(db, session.id, pin_id)


def edit_codebook(db: Database, user: User, session_id: str, op: str, **args) -> tuple[str, str | None]:
    """rename(theme_id, label) · merge(theme_ids, label=None) · split(theme_id, parts=2) · delete(theme_id) ·
    move(statement_id, to_theme_id). Returns (run id shown now, None or why the edit was not applied)."""
    session = get_for(db, user, session_id, Permission.EDIT)
    return pipeline.edit_codebook(db, [session.id], op, args, user.id)


def codebook_edits(db: Database, user: User | None, session_id: str) -> list[synrepo.Edit]:
    session = get_for(db, user, session_id, Permission.VIEW_RESULTS)
    return synrepo.list_edits(db, session.id)


# ------------------------------------------------------------------------------------ project synthesis
# The same synthesis across the sessions of a project: themes counted over all of them, with a per-session
# breakdown. A user gets the project's sessions whose results they may see (Permission.VIEW_RESULTS on each),
# never more: a viewer of the project does not see sessions whose owner kept results to editors.
#
# Scope key: "project:<id>:<hash of the sorted session ids>". Runs are stored (and incrementally updated, and
# looked up) per scope, so a run is only ever shown to someone whose visible set of sessions is exactly the set
# it was built from, and adding or removing a session (or a visibility change) starts a new scope instead of
# updating a run built over another set. That is simpler and safer than one "project:<id>" scope whose runs would
# have to be filtered by their session_ids on every read (and whose incremental updates would mix sets). Runs of
# an earlier set stay stored under their own scope and become current again if the set returns to it.

import hashlib  # noqa: E402

from core.permissions import ProjectPermission, require_project  # noqa: E402
from core.repos import access as arepo  # noqa: E402
from core.repos.access import Project  # noqa: E402


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

    @property
    def session_names(self) -> dict[str, str]:
        return {s.id: s.name for s in self.sessions}


def _project_sessions(db: Database, user: User | None, project_id: str) -> tuple[Project, list[SessionRow], int]:
    project = require_project(db, user, ProjectPermission.VIEW, arepo.get_project(db, project_id))
    rows = [srepo.get_session(db, sid) for sid in arepo.project_session_ids(db, project.id)]
    rows = [s for s in rows if s is not None]
    included = [s for s in rows if can(db, user, Permission.VIEW_RESULTS, s)]
    return project, included, len(rows) - len(included)


def project_view(db: Database, user: User | None, project_id: str) -> ProjectView:
    """The latest project synthesis over the project's sessions this user may see (AccessDenied for non-members)."""
    project, sessions, hidden = _project_sessions(db, user, project_id)
    ids = [s.id for s in sessions]
    scope = project_scope(project.id, ids)
    run = synrepo.latest_run(db, scope) if ids else None
    if run is None:
        return ProjectView(project, sessions, hidden, scope, None)
    names = {s.id: s.name for s in sessions}
    frame = synrepo.participants_frame(db, ids)
    labels = {r.participant_id: f"Participant {r.number} · {names.get(r.session_id, '')}"
              for r in frame.itertuples(index=False)}
    view = _run_view(db, None, run, labels)
    sizes = run.stats.get("participants_by_session")
    if sizes is None:   # runs stored before this count was kept: participants with a statement
        sizes = view.statements.groupby("session_id")["participant_id"].nunique().to_dict()
    return ProjectView(project, sessions, hidden, scope, view, {sid: int(sizes.get(sid, 0)) for sid in ids})


def run_project_synthesis(db: Database, user: User | None, project_id: str, *, mode: str = "offline",
                          progress: pipeline.Progress | None = None, trigger: str = "manual",
                          params: pipeline.Params | None = None) -> pipeline.RunOutcome:
    """Run and store a synthesis over the project's sessions whose results the user may see."""
    project, sessions, _hidden = _project_sessions(db, user, project_id)
    ids = sorted(s.id for s in sessions)
    if not ids:
        raise ProjectSynthesisError("This project has no session whose results you may see.")
    hooks = _hooks(db, mode, ids)
    return pipeline.synthesize(db, ids, progress=progress, trigger=trigger, mode="model" if hooks else "offline",
                               params=params, scope=project_scope(project.id, ids), **hooks)
