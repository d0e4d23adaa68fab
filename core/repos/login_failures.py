"""SQL for failed sign-in counts per username."""

from __future__ import annotations

from datetime import datetime

from core.clock import utcnow
from core.db import Database


def login_failures(db: Database) -> dict[str, tuple[int, datetime]]:
    return {u: (n, at) for u, n, at in db.fetchall("SELECT username, failures, last_at FROM login_failures")}


def set_login_failures(db: Database, username: str, failures: int) -> None:
    with db.write() as cur:
        cur.execute("DELETE FROM login_failures WHERE username = ?", [username])
        if failures:
            cur.execute("INSERT INTO login_failures VALUES (?, ?, ?)", [username, failures, utcnow()])
