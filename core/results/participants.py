"""The participants of a session: participation, the participants table (whole, or page by page), transcripts and
include/exclude. Each function takes a session whose access the caller checked (core.results.SessionResults)."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from core.db import Database
from core.repos import analytics
from core.repos import participants as prepo
from core.repos import sessions as srepo
from core.repos import synthesis as synrepo
from core.repos.participants import load_json_list
from core.repos.sessions import SessionRow


@dataclass(frozen=True)
class Results:
    session: SessionRow
    participants: pd.DataFrame      # one row per participant, form answers as columns
    started: int
    finished: int
    included: int


def participants(db: Database, session: SessionRow, identifying: bool) -> Results:
    """Participation and the participants table (form answers as columns).

    Answers to identifying fields (names, emails) are left out unless `identifying` (the user may see them).
    """
    table = _with_form_answers(db, session, identifying, prepo.activity_frame(db, session.id),
                               synrepo.form_answers_frame(db, [session.id]))
    real = table[~table["simulated"]]
    counted = real[real["included"] & (real["messages"] > 0)]
    return Results(session, table, len(real), int(real["status"].isin(prepo.FINISHED_SHOWN).sum()), len(counted))


def _with_form_answers(db: Database, session: SessionRow, identifying: bool, table: pd.DataFrame,
                       answers: pd.DataFrame) -> pd.DataFrame:
    """The participants `table` with a "participant" label first and one column per form field (named by its label)
    from `answers` (participant_id, field_key, value); identifying fields only when `identifying`."""
    form = srepo.get_form(db, session.id)
    if not identifying:
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
    keys = [f.key for f in form]        # in the form's order (the pivot sorts them by key)
    table = table[[c for c in table.columns if c not in keys] + keys].rename(columns={f.key: f.label for f in form})
    table.insert(0, "participant", table["number"].map(lambda n: f"Participant {n}"))
    return table


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


def participants_page(db: Database, session: SessionRow, identifying: bool, page: int = 0,
                      size: int = PAGE_SIZE) -> ParticipantsPage:
    """One page of the participants table (by participant number), read and decorated in DuckDB page by page: the
    results page stays the same size at 200,000 participants. A page past the end shows the last one."""
    size = max(1, int(size))
    total = analytics.count_participants(db, session.id)
    page = min(max(0, int(page)), max(0, -(-total // size) - 1))
    rows = analytics.participants_page(db, session.id, page * size, size)
    rows = _with_form_answers(db, session, identifying, rows, analytics.form_answers_of(db, rows["id"].tolist()))
    return ParticipantsPage(rows, total, page, size)


def participant_page_of(db: Database, session: SessionRow, participant_id: str | None,
                        size: int = PAGE_SIZE) -> int | None:
    """The page (0-based) of the participants table holding `participant_id`, or None when it is not in the session
    (a quote's "open in transcript" link names a participant; the table opens on their page)."""
    if not participant_id:
        return None
    position = analytics.participant_position(db, session.id, participant_id)
    return None if position is None else position // max(1, int(size))


def transcript(db: Database, session: SessionRow, participant_id: str) -> list[prepo.Message]:
    participant = prepo.get_participant(db, participant_id)
    if participant is None or participant.session_id != session.id:
        return []
    return prepo.list_messages(db, participant_id)


def set_included(db: Database, session: SessionRow, participant_id: str, included: bool) -> None:
    """Include or exclude a participant from the analysis (it changes shared results: the caller checks the user may
    write them)."""
    participant = prepo.get_participant(db, participant_id)
    if participant is not None and participant.session_id == session.id:
        prepo.update_participant(db, participant_id, included=included)
        from core import refresh

        refresh.request(db, session.id, "participant included" if included else "participant excluded")
