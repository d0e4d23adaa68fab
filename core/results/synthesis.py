"""Stored synthesis runs as the results pages show them (core/synthesis/pipeline.py makes them): themes with their
quotes, the run's status and progress, and running one. Each function takes a session whose access the caller
checked (core.results.SessionResults, or core.results.public / project for their audiences)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cached_property

import pandas as pd

from core.db import Database
from core.repos import analytics
from core.repos import synthesis as synrepo
from core.repos.sessions import SessionRow
from core.repos.synthesis import Run
from core.synthesis import pipeline
from core.synthesis.models import synthesis_model
from core.synthesis.theme_names import unique_labels


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
    stability: float | None = None   # bootstrap agreement 0..1 (core.synthesis.cluster); None: not measured
    subthemes: list["SubThemeView"] = field(default_factory=list)

    @property
    def steadiness(self) -> str:
        """"solid", "tentative" or "not measured" (cluster.stability_word)."""
        from core.synthesis.cluster import stability_word

        return stability_word(self.stability)


@dataclass
class SubThemeView:
    subtheme_id: str
    label: str
    participants: int
    mentions: int
    quotes: list[QuoteView] = field(default_factory=list)


@dataclass
class SynthesisView:
    session: SessionRow | None      # None for a project view (ProjectView.sessions lists its sessions)
    run: Run
    themes: list[ThemeView]
    analysed: int           # included participants with at least one answer (the share denominator)
    up_to_date: bool
    runs: list[Run]
    db: Database | None = field(default=None, repr=False, compare=False)

    # Every statement of the run is the largest read of the page (400,000 rows for 200,000 imported answers): it is
    # read on first use only (ask the data, moving a statement, exports), never to show the header or the themes.
    @cached_property
    def statements(self) -> pd.DataFrame:
        """Every statement of the run (statement_id, message_id, participant_id, session_id, step, text,
        theme_id, …)."""
        return synrepo.statements_frame(self.db, self.run.id)

    @cached_property
    def memberships(self) -> pd.DataFrame:
        """(participant_id, theme_id) of every statement, theme_id null when unassigned: the statements without text."""
        if "statements" in self.__dict__:
            return self.statements[["participant_id", "theme_id"]]
        return analytics.memberships(self.db, self.run.id)


def _names(db: Database, participant_ids: list[str]) -> dict[str, str]:
    """participant id -> "Participant <number>", for these participants only (a run's quotes, not everyone)."""
    return {pid: f"Participant {n}"
            for pid, n in analytics.participant_numbers(db, sorted(set(participant_ids))).items()}


def synthesis_view(db: Database, session: SessionRow, run_id: str | None = None) -> SynthesisView | None:
    """The run to show (latest, or `run_id` when it belongs to this session), or None before the first run."""
    run = synrepo.get_run(db, run_id) if run_id else synrepo.latest_run(db, session.id)
    if run is None or run.scope != session.id or run.status != "done":
        run = synrepo.latest_run(db, session.id)
    if run is None:
        return None
    return run_view(db, session, run, None)


def run_view(db: Database, session: SessionRow | None, run: Run, names: dict[str, str] | None) -> SynthesisView:
    """Themes with their quotes (named by `names`: participant id -> label; by default "Participant <number>") and
    per-session counts of a done run. Reads the themes and their quotes' statements, not every statement."""
    analysed = int(run.stats.get("participants", 0))
    themes = []
    frame = synrepo.themes_frame(db, run.id)
    # runs stored before labels were made unique may repeat one: shown apart ("Answer (2)"), keyed by theme id
    frame["label"] = unique_labels(frame["label"].tolist())
    quoted = [sid for q in frame["quotes"] for sid in json.loads(q)]
    subs = {r.theme_id: json.loads(getattr(r, "subthemes", None) or "[]") for r in frame.itertuples(index=False)}
    quoted += [sid for items in subs.values() for sub in items for sid in sub.get("quotes", [])]
    by_id = analytics.statements_by_id(db, run.id, quoted).set_index("statement_id")
    if names is None:
        names = _names(db, by_id["participant_id"].tolist())
    if len(run.session_ids) == 1:   # one session: its count is the theme's (no pass over every statement)
        per_session = {(t, run.session_ids[0]): int(n) for t, n in zip(frame["theme_id"], frame["participants"]) if n}
    else:
        per_session = {(r.theme_id, r.session_id): int(r.participants)
                       for r in analytics.theme_session_counts(db, run.id).itertuples(index=False)}
    def quote_views(ids: list[str], ref: str) -> list[QuoteView]:
        out = []
        for i, sid in enumerate(ids, start=1):
            if sid not in by_id.index:
                continue
            s = by_id.loc[sid]
            out.append(QuoteView(f"{ref}.{i}", sid, s["message_id"], s["participant_id"],
                                 names.get(s["participant_id"], "Participant"), s["text"], int(s["step"]),
                                 s["question"]))
        return out

    for r in frame.itertuples(index=False):
        quotes = quote_views(json.loads(r.quotes), f"Q{r.position + 1}")
        sessions = {str(k[1]): v for k, v in per_session.items() if k[0] == r.theme_id}
        stability = getattr(r, "stability", None)
        stability = None if stability is None or pd.isna(stability) else float(stability)
        sub_views = [SubThemeView(sub["id"], sub["label"], int(sub["participants"]), int(sub["mentions"]),
                                  quote_views(sub.get("quotes", []), f"Q{r.position + 1}.{j}"))
                     for j, sub in enumerate(subs.get(r.theme_id, []), start=1)]
        themes.append(ThemeView(r.theme_id, int(r.position), r.label, r.description, json.loads(r.keywords),
                                int(r.participants), int(r.mentions),
                                100.0 * r.participants / analysed if analysed else 0.0, json.loads(r.sentiment),
                                quotes, r.origin, sessions, stability, sub_views))
    latest = synrepo.latest_run(db, run.scope)
    up_to_date = (latest is not None and latest.id == run.id
                  and pipeline.current_input_hash(db, run.session_ids, _params(run), run.mode, run.embedder)
                  == run.input_hash)
    return SynthesisView(session, run, themes, analysed, up_to_date, synrepo.list_runs(db, run.scope), db)


def _params(run: Run) -> pipeline.Params:
    return pipeline.Params(**{k: v for k, v in run.params.items() if k in pipeline.Params.__dataclass_fields__})


def synthesis_status(db: Database, session: SessionRow) -> dict:
    """Cheap status for the page header: the latest run, whether it is current, and a run in progress."""
    latest = synrepo.latest_run(db, session.id)
    running = synrepo.latest_run(db, session.id, status="running")
    current = pipeline.current_input_hash(db, [session.id], _params(latest) if latest else None,
                                          latest.mode if latest else "offline",
                                          latest.embedder if latest else pipeline.TfidfLsa.name)
    return {"latest": latest, "running": running is not None and (latest is None or running.created_at >
                                                                  latest.created_at),
            "up_to_date": latest is not None and latest.input_hash == current}


def run_synthesis(db: Database, session: SessionRow, *, mode: str = "offline",
                  progress: pipeline.Progress | None = None, trigger: str = "manual",
                  params: pipeline.Params | None = None) -> pipeline.RunOutcome:
    """Run and store a synthesis. Model mode needs a configured model; without one it runs offline (the run
    records the mode it actually used). Every member sees the latest run: the caller checks the user may write."""
    return pipeline.synthesize(db, [session.id], progress=progress, trigger=trigger, params=params,
                               model=synthesis_model(db, [session.id], mode))


def synthesis_progress(db: Database, session: SessionRow):
    """The synthesis running now for this session (started by hand, after an import, or by the automatic refresh),
    or the last one that ended in this server process: a core.refresh.RunProgress, or None."""
    from core import refresh

    return refresh.progress(db, session.id)


def start_synthesis(db: Database, session: SessionRow, *, mode: str = "offline", trigger: str = "manual") -> bool:
    """Start a synthesis in a background thread of this process and return at once: True, or False when one is
    already running for the session. Its progress is `synthesis_progress`; the page keeps showing the latest
    stored run meanwhile (a full offline run over 400,000 statements takes minutes). The caller checks the user may
    write."""
    from core import refresh

    return refresh.start(db, session.id, trigger, lambda progress: run_synthesis(
        db, session, mode=mode, progress=progress, trigger=trigger))
