"""SQL for user accounts. Usernames are stored and looked up lower-case (`canonical_username`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from core.clock import utcnow
from core.db import Database
from core.ids import new_id


@dataclass(frozen=True)
class User:
    id: str
    username: str
    email: str
    name: str
    password_hash: str
    is_admin: bool
    disabled: bool
    created_at: datetime
    must_change_password: bool = False  # after a password reset: only the change form until changed
    sessions_valid_after: datetime | None = None  # sign-ins issued at or before this are refused (naive UTC)


_COLUMNS = ("id, username, email, name, password_hash, is_admin, disabled, created_at, "
            "coalesce(must_change_password, FALSE), sessions_valid_after")
_INSERTED = "id, username, email, name, password_hash, is_admin, disabled, created_at"


def canonical_username(username: str) -> str:
    """The one form of a username that is stored, compared and counted: trimmed, lower-case.

    streamlit-authenticator lower-cases what is typed at sign-in, so any other form would be counted and
    looked up under two names.
    """
    return username.strip().lower()


def insert_user(db: Database, username: str, email: str, name: str, password_hash: str) -> User:
    """Insert a user; the first user of the database becomes admin (decided inside the write lock)."""
    with db.write() as cur:
        first = cur.execute("SELECT count(*) FROM users").fetchone()[0] == 0
        user = User(new_id(), canonical_username(username), email, name, password_hash, first, False, utcnow())
        cur.execute(
            f"INSERT INTO users ({_INSERTED}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [user.id, user.username, user.email, user.name, user.password_hash, user.is_admin,
             user.disabled, user.created_at],
        )
    return user


def get_by_username(db: Database, username: str) -> User | None:
    row = db.fetchone(f"SELECT {_COLUMNS} FROM users WHERE username = ?", [canonical_username(username)])
    return User(*row) if row else None


def get_by_email(db: Database, email: str) -> User | None:
    row = db.fetchone(f"SELECT {_COLUMNS} FROM users WHERE lower(email) = lower(?)", [email])
    return User(*row) if row else None


def get_by_id(db: Database, user_id: str) -> User | None:
    row = db.fetchone(f"SELECT {_COLUMNS} FROM users WHERE id = ?", [user_id])
    return User(*row) if row else None


def list_users(db: Database) -> list[User]:
    return [User(*r) for r in db.fetchall(f"SELECT {_COLUMNS} FROM users ORDER BY created_at")]


def set_password_hash(db: Database, user_id: str, password_hash: str, must_change: bool = False) -> None:
    """Store a new password hash and end every sign-in of the user issued until now."""
    with db.write() as cur:
        cur.execute("UPDATE users SET password_hash = ?, must_change_password = ?, sessions_valid_after = ? "
                    "WHERE id = ?", [password_hash, must_change, utcnow(), user_id])


def set_disabled(db: Database, user_id: str, disabled: bool) -> None:
    """Disable (ending every sign-in of the user) or enable an account."""
    with db.write() as cur:
        if disabled:
            cur.execute("UPDATE users SET disabled = TRUE, sessions_valid_after = ? WHERE id = ?",
                        [utcnow(), user_id])
        else:
            cur.execute("UPDATE users SET disabled = FALSE WHERE id = ?", [user_id])


def end_sessions(db: Database, user_id: str) -> None:
    """Refuse from now on every sign-in of the user issued until now (cookies and open browser sessions)."""
    with db.write() as cur:
        cur.execute("UPDATE users SET sessions_valid_after = ? WHERE id = ?", [utcnow(), user_id])


def erase_user(db: Database, user_id: str) -> None:
    """Erase the account's personal data and disable it.

    The row stays (emptied) because sessions, projects and audit entries refer to it by foreign key.
    """
    with db.write() as cur:
        cur.execute(
            "UPDATE users SET username = ?, email = ?, name = 'Deleted user', password_hash = '!', disabled = TRUE, "
            "is_admin = FALSE, must_change_password = FALSE, sessions_valid_after = ? WHERE id = ?",
            [f"deleted-{user_id}", f"deleted-{user_id}@invalid", utcnow(), user_id],
        )
