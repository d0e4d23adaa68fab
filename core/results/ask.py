"""Ask the data (answers cited from the run's quotes) and the insights pinned from it. Each function takes a session
whose access the caller checked (core.results.SessionResults); pinning and unpinning need the write permission."""

from __future__ import annotations

from core.db import Database
from core.repos import synthesis as synrepo
from core.repos.sessions import SessionRow
from core.repos.users import User
from core.results.synthesis import SynthesisView
from core.synthesis.ask import AskAnswer, retrieve


def ask(db: Database, session: SessionRow, view: SynthesisView, question: str, mode: str = "auto") -> AskAnswer:
    """Retrieve the closest quotes and themes; in model mode ("auto": when a model is configured) the model writes
    the answer from those quotes only."""
    labels = {t.theme_id: t.label for t in view.themes}
    answer = retrieve(question, view.statements, labels)
    if mode != "offline" and answer.citations:
        from core.synthesis.model_mode import model_answer

        answer = model_answer(answer, db, [session.id])
    return answer


def pin_insight(db: Database, session: SessionRow, user: User, answer: AskAnswer, run_id: str | None) -> str:
    """Pin an answer for every member to see."""
    cites = [{"ref": c.ref, "statement_id": c.statement_id, "message_id": c.message_id, "text": c.text}
             for c in answer.citations]
    return synrepo.add_pin(db, session.id, answer.question, answer.answer, cites, run_id, user.id)


def pinned_insights(db: Database, session: SessionRow) -> list[dict]:
    return synrepo.list_pins(db, session.id)


def unpin_insight(db: Database, session: SessionRow, pin_id: str) -> None:
    """Remove a pinned insight for everyone."""
    synrepo.delete_pin(db, session.id, pin_id)
