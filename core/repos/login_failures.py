"""SQL for failed sign-in counts per username."""

from __future__ import annotations

from datetime import datetime

from core.clock import utcnow
from core.db import Database


def login_failures(db: Database) -> dict[str, tuple[int, datetime]]:
    return {u: (n, at) for u, n, at in db.fetchall("SELECT username, failures, last_at FROM login_failures")}


def add_login_failure(db: Database, username: str) -> int:
    """Count one more failed sign-in for `username`; the new count. Serialised per name, so failures on several
    replicas at once all count."""
    with db.write(serial=f"sign-in of {username}") as cur:
        row = cur.execute("SELECT failures FROM login_failures WHERE username = ?", [username]).fetchone()
        failures = (row[0] if row else 0) + 1
        cur.execute("DELETE FROM login_failures WHERE username = ?", [username])
        cur.execute("INSERT INTO login_failures VALUES (?, ?, ?)", [username, failures, utcnow()])
    return failures


def clear_login_failures(db: Database, username: str) -> None:
    with db.write() as cur:
        cur.execute("DELETE FROM login_failures WHERE username = ?", [username])
