"""What the results page shows, computed from the database (access checked here)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import pandas as pd

from core.db import Database
from core.permissions import AccessDenied, Permission, can
from core.repos import analytics
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
    table = _with_form_answers(db, user, session, prepo.activity_frame(db, session.id),
                               synrepo.form_answers_frame(db, [session.id]))
    real = table[~table["simulated"]]
    counted = real[real["included"] & (real["messages"] > 0)]
    return Results(session, table, len(real), int(real["status"].isin(prepo.FINISHED_SHOWN).sum()), len(counted))


def _with_form_answers(db: Database, user: User | None, session: SessionRow, table: pd.DataFrame,
                       answers: pd.DataFrame) -> pd.DataFrame:
    """The participants `table` with a "participant" label first and one column per form field (named by its label)
    from `answers` (participant_id, field_key, value); identifying fields only for those who may see them."""
    form = srepo.get_form(db, session.id)
    if not can(db, user, Permission.VIEW_IDENTIFYING, session):
        form = [f for f in form if not (f.identifying or f.type == "email")]
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
    return table


def results_session(db: Database, user: User | None, session_id: str) -> SessionRow:
    """The session whose results the user may see (AccessDenied otherwise): what the results page needs before
    anything else, without reading its participants."""
    return get_for(db, user, session_id, Permission.VIEW_RESULTS)


PAGE_SIZE = 50


@dataclass(frozen=True)
class ParticipantsPage:
    rows: pd.DataFrame      # this page's participants, the columns of Results.participants
    total: int              # participants of the session (simulated ones included, as in the table)
    page: int               # 0-based
    size: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.size))

    @property
    def first(self) -> int:
        """1-based position of the page's first row (0 when the session has no participant)."""
        return self.page * self.size + 1 if self.total else 0

    @property
    def last(self) -> int:
        return min(self.total, (self.page + 1) * self.size)


def participants_page(db: Database, user: User | None, session_id: str, page: int = 0,
                      size: int = PAGE_SIZE) -> ParticipantsPage:
    """One page of the participants table (by participant number), read and decorated in DuckDB page by page: the
    results page stays the same size at 200,000 participants. A page past the end shows the last one."""
    session = get_for(db, user, session_id, Permission.VIEW_RESULTS)
    size = max(1, int(size))
    total = analytics.count_participants(db, session.id)
    page = min(max(0, int(page)), max(0, -(-total // size) - 1))
    rows = analytics.participants_page(db, session.id, page * size, size)
    rows = _with_form_answers(db, user, session, rows, analytics.form_answers_of(db, rows["id"].tolist()))
    return ParticipantsPage(rows, total, page, size)


def participant_page_of(db: Database, user: User | None, session_id: str, participant_id: str | None,
                        size: int = PAGE_SIZE) -> int | None:
    """The page (0-based) of the participants table holding `participant_id`, or None when it is not in the session
    (a quote's "open in transcript" link names a participant; the table opens on their page)."""
    session = get_for(db, user, session_id, Permission.VIEW_RESULTS)
    if not participant_id:
        return None
    position = analytics.participant_position(db, session.id, participant_id)
    return None if position is None else position // max(1, int(size))


def transcript(db: Database, user: User | None, session_id: str, participant_id: str) -> list[prepo.Message]:
    session = get_for(db, user, session_id, Permission.VIEW_TRANSCRIPTS)
    participant = prepo.get_participant(db, participant_id)
    if participant is None or participant.session_id != session.id:
        return []
    return prepo.list_messages(db, participant_id)


def set_included(db: Database, user: User, session_id: str, participant_id: str, included: bool) -> None:
    """Include or exclude a participant from the analysis (editors and owners: it changes shared results)."""
    session = get_for(db, user, session_id, Permission.WRITE_RESULTS)
    participant = prepo.get_participant(db, participant_id)
    if participant is not None and participant.session_id == session.id:
        prepo.update_participant(db, participant_id, included=included)
        from core import refresh

        refresh.request(db, session.id, "participant included" if included else "participant excluded")


# ------------------------------------------------------------------------------------- synthesis
# Everything below reads stored synthesis runs (core/synthesis/pipeline.py). Each function checks access.

import json  # noqa: E402
from dataclasses import field  # noqa: E402
from functools import cached_property  # noqa: E402

from core.repos import synthesis as synrepo  # noqa: E402
from core.repos.synthesis import Run  # noqa: E402
from core.synthesis import pipeline  # noqa: E402
from core.synthesis.ask import AskAnswer, retrieve  # noqa: E402
from core.synthesis.coverage import coverage_matrix  # noqa: E402
from core.synthesis.models import SynthesisModel, synthesis_model  # noqa: E402
from core.synthesis.segments import SegmentTable, multiple_choice_table, segment_table  # noqa: E402
from core.synthesis.theme_names import unique_labels  # noqa: E402


def capabilities(db: Database, user: User | None, session_id: str) -> dict[str, bool]:
    """What the results page may offer this user: transcripts, edits (include/exclude, codebook), exports, and
    `write`: changing shared results (re-run the synthesis, pin and unpin insights)."""
    session = srepo.get_session(db, session_id)
    return {name: can(db, user, permission, session) for name, permission in
            (("transcripts", Permission.VIEW_TRANSCRIPTS), ("edit", Permission.WRITE_RESULTS),
             ("export", Permission.EXPORT), ("write", Permission.WRITE_RESULTS))}


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


def synthesis_view(db: Database, user: User | None, session_id: str, run_id: str | None = None) -> SynthesisView | None:
    """The run to show (latest, or `run_id` when it belongs to this session), or None before the first run."""
    return _build_view(db, get_for(db, user, session_id, Permission.VIEW_RESULTS), run_id)


@dataclass(frozen=True)
class PublicResults:
    session: SessionRow
    sections: list[str]
    view: "SynthesisView | None"
    transcripts: list[tuple[int, list[prepo.Message]]]   # (participant number, messages), when shared
    withheld: tuple[str, ...] = ()      # sections of the link not shown: participants' words are not allowed


def public_view(db: Database, token: str | None) -> PublicResults:
    """What a live public link shows (only its sections), as the audience-safe view (core.audience): no verbatim
    words unless the owner allowed quotes, and then only from themes of k+ people (and only with the Quotes
    section); transcripts only when quotes are allowed. AccessDenied when the link is unknown or revoked."""
    from core.audience import QuotePolicy, audience_view
    from core.sharing import open_public_link

    link = open_public_link(db, token)
    session = srepo.get_session(db, link.session_id)
    policy = QuotePolicy.of(session)
    transcripts, withheld = [], []
    if not policy.allow:
        withheld = [s for s in ("quotes", "transcripts") if s in link.sections]
    elif "transcripts" in link.sections:
        transcripts = [(p.number, prepo.list_messages(db, p.id)) for p in prepo.list_participants(db, session.id)
                       if p.included and not p.simulated]
    view = _build_view(db, session)
    if view is not None:
        view = audience_view(view, policy, quotes="quotes" in link.sections)
    return PublicResults(session, link.sections, view, transcripts, tuple(withheld))


def participant_view(db: Database, token: str | None) -> SynthesisView | None:
    """Summary and themes for a participant of the session, when the owner opened results to participants: the
    audience-safe view (core.audience), with no other participant's words unless the owner allowed quotes, and
    then only from themes raised by at least k people."""
    from core.audience import QuotePolicy, audience_view

    participant = prepo.get_by_token(db, token) if token else None
    session = srepo.get_session(db, participant.session_id) if participant else None
    if session is None or session.visibility not in ("participants", "public"):
        raise AccessDenied("The organisers have not shared the results with participants.")
    view = _build_view(db, session)
    return audience_view(view, QuotePolicy.of(session)) if view is not None else None


def _build_view(db: Database, session: SessionRow, run_id: str | None = None) -> SynthesisView | None:
    """The view of a run, for a session whose access the caller has already checked."""
    run = synrepo.get_run(db, run_id) if run_id else synrepo.latest_run(db, session.id)
    if run is None or run.scope != session.id or run.status != "done":
        run = synrepo.latest_run(db, session.id)
    if run is None:
        return None
    return _run_view(db, session, run, None)


def _run_view(db: Database, session: SessionRow | None, run: Run, names: dict[str, str] | None) -> SynthesisView:
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
    records the mode it actually used). Every member sees the latest run: editors and owners only."""
    session = get_for(db, user, session_id, Permission.WRITE_RESULTS)
    return pipeline.synthesize(db, [session.id], progress=progress, trigger=trigger, params=params,
                               model=_synthesis_model(db, mode, [session.id]))


def _synthesis_model(db: Database, mode: str, session_ids: list[str]) -> SynthesisModel:
    """The model for pipeline.synthesize: offline when the mode is offline or no model is set."""
    return synthesis_model(db, session_ids, mode)


@dataclass
class Overview:
    started: int
    finished: int              # completed the guide or ended early
    included: int
    median_answer_words: float
    completion_by_step: pd.DataFrame   # step, question, participants reaching it, answered it
    ended_early: int = 0       # finished before answering the last step (Finish button or turn limit)


def overview(db: Database, user: User | None, session_id: str) -> Overview:
    """Participation numbers and completion by step of real (not simulated) participants, aggregated in DuckDB."""
    session = get_for(db, user, session_id, Permission.VIEW_RESULTS)
    counts = analytics.participation(db, session.id)
    reach = analytics.step_reach(db, session.id).set_index("step")
    guide = srepo.get_guide_version(db, session.id, session.guide_version) if session.guide_version else None
    steps = guide.steps if guide else []
    rows = []
    for i, s in enumerate(steps):
        at = reach.loc[i] if i in reach.index else None
        rows.append({"step": i + 1, "question": s.question, "critical item": s.critical_item or "",
                     "reached": int(at["reached"]) if at is not None else 0,
                     "answered": int(at["answered"]) if at is not None else 0})
    return Overview(counts["started"], counts["finished"], counts["included"],
                    analytics.median_answer_words(db, session.id), pd.DataFrame(rows), counts["ended_early"])


# Up to this many included participants the Coverage tab draws one column per participant; above, counts per item.
COVERAGE_GRID_MAX = 150
# Above this many participants, the results page computes only the open tab (each tab switch reruns the page
# anyway). 0: always. Computing every tab doubled what a page load and each rerun cost even at 30 participants
# (bench/page_speed.py: settled 1.7 s -> 0.7 s from the dashboard's link); a switch then computes its tab.
LAZY_TABS_ABOVE = 0
COVERAGE_STATUSES = ["answered", "thin", "skipped", "not reached"]


def coverage_counts(db: Database, user: User | None, session_id: str) -> pd.DataFrame:
    """Coverage of each critical item as counts of included real participants: rows = items (in guide order),
    columns = answered, thin, skipped, not reached (each participant counted once per item, at their best).
    Computed in DuckDB: the same figures as `coverage` at any number of participants."""
    from core.facilitation.tracker import THIN_ANSWER_WORDS

    session = get_for(db, user, session_id, Permission.VIEW_RESULTS)
    mapping = pipeline.question_map(db, [session.id])
    items = list(dict.fromkeys(item for _, item in mapping.values() if item))
    step_items = pd.DataFrame([(sid, int(gv), int(step), item) for (sid, gv, step), (_, item) in mapping.items()
                               if item], columns=["session_id", "guide_version", "step", "item"])
    counts = analytics.coverage_counts(db, session.id, step_items, THIN_ANSWER_WORDS)
    table = (counts.pivot(index="item", columns="status", values="participants")
             if not counts.empty else pd.DataFrame())
    table = table.reindex(index=items, columns=COVERAGE_STATUSES).fillna(0).astype(int)
    people = analytics.participation(db, session.id)["included"]
    table["not reached"] = people - table[["answered", "thin", "skipped"]].sum(axis=1)
    return table


def synthesis_progress(db: Database, user: User | None, session_id: str):
    """The synthesis running now for this session (started by hand, after an import, or by the automatic refresh),
    or the last one that ended in this server process: a core.refresh.RunProgress, or None."""
    from core import refresh

    session = get_for(db, user, session_id, Permission.VIEW_RESULTS)
    return refresh.progress(db, session.id)


def start_synthesis(db: Database, user: User | None, session_id: str, *, mode: str = "offline",
                    trigger: str = "manual") -> bool:
    """Start a synthesis in a background thread of this process and return at once: True, or False when one is
    already running for the session. Its progress is `synthesis_progress`; the page keeps showing the latest
    stored run meanwhile (a full offline run over 400,000 statements takes minutes). Editors and owners only."""
    from core import refresh

    session = get_for(db, user, session_id, Permission.WRITE_RESULTS)
    return refresh.start(db, session.id, trigger, lambda progress: run_synthesis(
        db, user, session.id, mode=mode, progress=progress, trigger=trigger))


def segment_fields(db: Database, user: User | None, session_id: str) -> dict[str, str]:
    session = get_for(db, user, session_id, Permission.VIEW_RESULTS)
    return {f.key: f.label for f in srepo.get_form(db, session.id) if f.type not in ("consent", "email")}


def segments(db: Database, user: User | None, view: SynthesisView, field_key: str) -> SegmentTable:
    """Themes by the answers to one form field. A multiple-choice field gives one segment per option (a
    participant can be in several; see core.synthesis.segments); any other field one group per answer."""
    session = get_for(db, user, view.session.id, Permission.VIEW_RESULTS)
    answers = synrepo.form_answers_frame(db, [session.id])
    values = answers[answers["field_key"] == field_key].set_index("participant_id")["value"]
    # No statement text: segments only count who raised what. Participants are numbered (0..n-1) for the counting,
    # which is much faster on integers than on 400,000 string ids.
    memberships = view.memberships
    ids = pd.Index(memberships["participant_id"].unique())
    analysed = pd.RangeIndex(len(ids))
    members = pd.DataFrame({"participant_id": ids.get_indexer(memberships["participant_id"]),
                            "theme_id": memberships["theme_id"]})
    members = members[members["theme_id"].notna()]
    form = {f.key: f for f in srepo.get_form(db, session.id)}
    label = segment_fields(db, user, session.id).get(field_key, field_key)
    themes = [(t.theme_id, t.label) for t in view.themes]
    spec = form.get(field_key)
    values = values[~values.index.duplicated()].reindex(ids)   # the analysed participants' answers (NaN: none)
    if spec is not None and spec.type == "multiple_choice":
        choices = pd.Series([load_json_list(v) if isinstance(v, str) else [] for v in values], index=analysed,
                            dtype=object)
        return multiple_choice_table(members, choices, themes, label, spec.options)
    values = values.map(lambda v: ", ".join(load_json_list(v)) if isinstance(v, str) and v.startswith("[") else v)
    groups = pd.Series(values.to_numpy(dtype=object), index=analysed, dtype=object)
    return segment_table(members, groups, themes, label)


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
    """Pin an answer for every member to see (editors and owners)."""
    session = get_for(db, user, session_id, Permission.WRITE_RESULTS)
    cites = [{"ref": c.ref, "statement_id": c.statement_id, "message_id": c.message_id, "text": c.text}
             for c in answer.citations]
    return synrepo.add_pin(db, session.id, answer.question, answer.answer, cites, run_id, user.id)


def pinned_insights(db: Database, user: User | None, session_id: str) -> list[dict]:
    session = get_for(db, user, session_id, Permission.VIEW_RESULTS)
    return synrepo.list_pins(db, session.id)


def unpin_insight(db: Database, user: User, session_id: str, pin_id: str) -> None:
    """Remove a pinned insight for everyone (editors and owners)."""
    session = get_for(db, user, session_id, Permission.WRITE_RESULTS)
    synrepo.delete_pin(db, session.id, pin_id)


def edit_codebook(db: Database, user: User, session_id: str, op: str, **args) -> tuple[str, str | None]:
    """rename(theme_id, label) · merge(theme_ids, label=None) · split(theme_id, parts=2) · delete(theme_id) ·
    move(statement_id, to_theme_id). Returns (run id shown now, None or why the edit was not applied)."""
    session = get_for(db, user, session_id, Permission.WRITE_RESULTS)
    return pipeline.edit_codebook(db, [session.id], op, args, user.id)


@dataclass
class EditView:
    id: str
    seq: int
    op: str
    status: str                 # applied | pending | discarded
    description: str            # the edit in plain words
    note: str                   # pending: why it no longer fits, and where its statements are now
    candidates: list[str]       # pending: themes of the latest run to offer as targets, most likely first
    several: bool               # the target is several themes (a merge), not one
    can_reapply: bool           # False when nothing can take it (a moved statement that left the analysis)
    created_at: datetime


def codebook_edits(db: Database, user: User | None, session_id: str) -> list[EditView]:
    """Every codebook edit of the session, in replay order, with its status: applied, pending (with why and where
    to re-apply it) or discarded."""
    from core.synthesis.codebook import describe_edit

    session = get_for(db, user, session_id, Permission.VIEW_RESULTS)
    latest = synrepo.latest_run(db, session.id)
    current = set(synrepo.themes_frame(db, latest.id)["theme_id"]) if latest is not None else set()
    out = []
    for e in synrepo.list_edits(db, session.id):
        statement_gone = (e.op == "move" and e.status == "pending" and latest is not None
                          and not synrepo.has_statement(db, latest.id, e.payload.get("statement_id", "")))
        out.append(EditView(e.id, e.seq, e.op, e.status, describe_edit(e.op, e.payload), e.note,
                            [t for t in e.candidates if t in current], e.op == "merge", not statement_gone,
                            e.created_at))
    return out


def reapply_codebook_edit(db: Database, user: User, session_id: str, edit_id: str,
                          targets: list[str]) -> tuple[str | None, str | None]:
    """Re-apply a pending edit to the theme(s) chosen. Returns (run id shown now, None or why not)."""
    session = get_for(db, user, session_id, Permission.WRITE_RESULTS)
    return pipeline.reapply_edit(db, [session.id], edit_id, targets, user.id)


def discard_codebook_edit(db: Database, user: User, session_id: str, edit_id: str) -> str | None:
    """Discard a pending edit (kept in the list as discarded, never replayed). Returns None or why not."""
    session = get_for(db, user, session_id, Permission.WRITE_RESULTS)
    return pipeline.discard_edit(db, [session.id], edit_id)


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
from core.repos import projects as projrepo  # noqa: E402
from core.repos.projects import Project  # noqa: E402


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
    view = _run_view(db, None, run, labels)
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
                               scope=project_scope(project.id, ids), model=_synthesis_model(db, mode, ids))
