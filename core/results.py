"""What the results page shows, computed from the database (access checked here)."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from core.db import Database
from core.permissions import Permission
from core.repos import participants as prepo
from core.repos import sessions as srepo
from core.repos.participants import load_json_list
from core.repos.sessions import SessionRow
from core.repos.users import User
from core.sessions import get_for
from core.synthesis.keywords import Theme, keyword_themes, templated_summary


@dataclass(frozen=True)
class Results:
    session: SessionRow
    participants: pd.DataFrame      # one row per participant, form answers as columns
    themes: list[Theme]
    summary: str
    started: int
    finished: int
    included: int


def session_results(db: Database, user: User | None, session_id: str) -> Results:
    session = get_for(db, user, session_id, Permission.VIEW_RESULTS)
    table = prepo.participants_frame(db, session.id)
    form = srepo.get_form(db, session.id)
    answers = prepo.form_answers_frame(db, session.id)
    if not answers.empty:
        wide = answers.pivot(index="participant_id", columns="field_key", values="value")
        table = table.merge(wide, how="left", left_on="id", right_index=True)
    labels = {f.key: f.label for f in form}
    for f in form:
        if f.key not in table.columns:
            table[f.key] = None
        elif f.type == "multiple_choice":
            table[f.key] = table[f.key].map(lambda v: ", ".join(load_json_list(v)) if isinstance(v, str) else v)
    table = table.rename(columns=labels)
    table.insert(0, "participant", table["number"].map(lambda n: f"Participant {n}"))

    texts = prepo.answers_frame(db, session.id)
    counted = texts[texts["included"] & ~texts["simulated"]]
    themes = keyword_themes(counted)
    real = table[~table["simulated"]]
    included = int(counted["participant_id"].nunique())
    finished = int((real["status"] == "finished").sum())
    return Results(session, table, themes, templated_summary(themes, included, finished), len(real), finished,
                   included)


def transcript(db: Database, user: User | None, session_id: str, participant_id: str) -> list[prepo.Message]:
    session = get_for(db, user, session_id, Permission.VIEW_RESULTS)
    participant = prepo.get_participant(db, participant_id)
    if participant is None or participant.session_id != session.id:
        return []
    return prepo.list_messages(db, participant_id)


def set_included(db: Database, user: User, session_id: str, participant_id: str, included: bool) -> None:
    session = get_for(db, user, session_id, Permission.EDIT)
    participant = prepo.get_participant(db, participant_id)
    if participant is not None and participant.session_id == session.id:
        prepo.update_participant(db, participant_id, included=included)
