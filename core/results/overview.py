"""Participation numbers and completion by step: the figures above the results page's tabs. Takes a session whose
access the caller checked (core.results.SessionResults)."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from core.db import Database
from core.repos import analytics
from core.repos import sessions as srepo
from core.repos.sessions import SessionRow


@dataclass
class Overview:
    started: int
    finished: int              # completed the guide or ended early
    included: int
    median_answer_words: float
    completion_by_step: pd.DataFrame   # step, question, participants reaching it, answered it
    ended_early: int = 0       # finished before answering the last step (Finish button or turn limit)


def overview(db: Database, session: SessionRow) -> Overview:
    """Participation numbers and completion by step of real (not simulated) participants, aggregated in DuckDB."""
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
