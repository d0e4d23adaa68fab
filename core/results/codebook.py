"""The codebook: the edits researchers make to the themes (rename, merge, split, delete, move), replayed after every
re-synthesis. Each function takes a session whose access the caller checked (core.results.SessionResults); every
change needs the write permission."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from core.db import Database
from core.repos import synthesis as synrepo
from core.repos.sessions import SessionRow
from core.synthesis import pipeline


def edit_codebook(db: Database, session: SessionRow, user_id: str, op: str, args: dict) -> tuple[str, str | None]:
    """rename(theme_id, label) · merge(theme_ids, label=None) · split(theme_id, parts=2) · delete(theme_id) ·
    move(statement_id, to_theme_id). Returns (run id shown now, None or why the edit was not applied)."""
    return pipeline.edit_codebook(db, [session.id], op, args, user_id)


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


def codebook_edits(db: Database, session: SessionRow) -> list[EditView]:
    """Every codebook edit of the session, in replay order, with its status: applied, pending (with why and where
    to re-apply it) or discarded."""
    from core.synthesis.codebook import describe_edit

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


def reapply_codebook_edit(db: Database, session: SessionRow, user_id: str, edit_id: str,
                          targets: list[str]) -> tuple[str | None, str | None]:
    """Re-apply a pending edit to the theme(s) chosen. Returns (run id shown now, None or why not)."""
    return pipeline.reapply_edit(db, [session.id], edit_id, targets, user_id)


def discard_codebook_edit(db: Database, session: SessionRow, edit_id: str) -> str | None:
    """Discard a pending edit (kept in the list as discarded, never replayed). Returns None or why not."""
    return pipeline.discard_edit(db, [session.id], edit_id)
