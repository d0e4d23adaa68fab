"""SQL for public read-only links to a session's results."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from core.clock import utcnow
from core.db import Database


@dataclass(frozen=True)
class PublicLink:
    token: str
    session_id: str
    sections: list[str]
    created_at: datetime
    revoked_at: datetime | None


def insert_public_link(db: Database, token: str, session_id: str, sections: list[str], created_by: str) -> None:
    with db.write() as cur:
        cur.execute("INSERT INTO public_links VALUES (?, ?, ?, ?, ?, NULL)",
                    [token, session_id, json.dumps(sections), created_by, utcnow()])


def get_public_link(db: Database, token: str) -> PublicLink | None:
    row = db.fetchone("SELECT token, session_id, sections, created_at, revoked_at FROM public_links WHERE token = ?",
                      [token])
    return PublicLink(row[0], row[1], json.loads(row[2]), row[3], row[4]) if row else None


def active_public_links(db: Database, session_id: str) -> list[PublicLink]:
    rows = db.fetchall("SELECT token, session_id, sections, created_at, revoked_at FROM public_links "
                       "WHERE session_id = ? AND revoked_at IS NULL ORDER BY created_at", [session_id])
    return [PublicLink(r[0], r[1], json.loads(r[2]), r[3], r[4]) for r in rows]


def revoke_public_link(db: Database, token: str) -> None:
    with db.write() as cur:
        cur.execute("UPDATE public_links SET revoked_at = ? WHERE token = ? AND revoked_at IS NULL",
                    [utcnow(), token])


def revoke_public_links_of_session(db: Database, session_id: str) -> list[str]:
    """Revoke every active public link of a session; return the tokens revoked."""
    with db.write() as cur:
        tokens = [r[0] for r in cur.execute(
            "SELECT token FROM public_links WHERE session_id = ? AND revoked_at IS NULL ORDER BY created_at",
            [session_id]).fetchall()]
        if tokens:
            cur.execute("UPDATE public_links SET revoked_at = ? WHERE session_id = ? AND revoked_at IS NULL",
                        [utcnow(), session_id])
    return tokens
