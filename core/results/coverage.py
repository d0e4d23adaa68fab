"""Coverage of the session's critical items: who answered each, thinly, skipped it or never reached it. Takes a
session whose access the caller checked (core.results.SessionResults)."""

from __future__ import annotations

import pandas as pd

from core.db import Database
from core.repos import analytics
from core.repos import synthesis as synrepo
from core.repos.sessions import SessionRow
from core.synthesis import pipeline
from core.synthesis.coverage import coverage_matrix

# Up to this many included participants the Coverage tab draws one column per participant; above, counts per item.
COVERAGE_GRID_MAX = 150
COVERAGE_STATUSES = ["answered", "thin", "skipped", "not reached"]


def coverage_counts(db: Database, session: SessionRow) -> pd.DataFrame:
    """Coverage of each critical item as counts of included real participants: rows = items (in guide order),
    columns = answered, thin, skipped, not reached (each participant counted once per item, at their best).
    Computed in DuckDB: the same figures as `coverage` at any number of participants."""
    from core.facilitation.tracker import THIN_ANSWER_WORDS

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


def coverage(db: Database, session: SessionRow) -> pd.DataFrame:
    """One row per critical item, one column per included real participant ("P7"): their coverage status."""
    answers = synrepo.answers_frame(db, [session.id])
    answers = answers[answers["included"] & ~answers["simulated"]]
    people = synrepo.participants_frame(db, [session.id])
    people = people[people["included"] & ~people["simulated"]]
    people = people.assign(label=people["number"].map(lambda n: f"P{n}"))
    items = {k: v[1] for k, v in pipeline.question_map(db, [session.id]).items()}
    return coverage_matrix(answers, items, people[["participant_id", "label"]])
