"""SQL for the participant-facing summary the model writes with a guide (guide_summaries)."""

from __future__ import annotations

from core.db import Database


def save_summary(db: Database, session_id: str, version: int, summary: str) -> None:
    with db.write() as cur:
        cur.execute("DELETE FROM guide_summaries WHERE session_id = ? AND version = ?", [session_id, version])
        cur.execute("INSERT INTO guide_summaries VALUES (?, ?, ?)", [session_id, version, summary])


def summary_for(db: Database, session_id: str, version: int | None) -> str:
    """The summary of `version`, or of the newest earlier version that has one (an edit keeps it); '' if none."""
    if version is None:
        return ""
    row = db.fetchone(
        "SELECT summary FROM guide_summaries WHERE session_id = ? AND version <= ? ORDER BY version DESC LIMIT 1",
        [session_id, version],
    )
    return row[0] if row else ""
