"""SQL for user accounts."""

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


_COLUMNS = "id, username, email, name, password_hash, is_admin, disabled, created_at"


def insert_user(db: Database, username: str, email: str, name: str, password_hash: str) -> User:
    """Insert a user; the first user of the database becomes admin (decided inside the write lock)."""
    with db.write() as cur:
        first = cur.execute("SELECT count(*) FROM users").fetchone()[0] == 0
        user = User(new_id(), username, email, name, password_hash, first, False, utcnow())
        cur.execute(
            f"INSERT INTO users ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [user.id, user.username, user.email, user.name, user.password_hash, user.is_admin,
             user.disabled, user.created_at],
        )
    return user


def get_by_username(db: Database, username: str) -> User | None:
    row = db.fetchone(f"SELECT {_COLUMNS} FROM users WHERE lower(username) = lower(?)", [username])
    return User(*row) if row else None


def get_by_email(db: Database, email: str) -> User | None:
    row = db.fetchone(f"SELECT {_COLUMNS} FROM users WHERE lower(email) = lower(?)", [email])
    return User(*row) if row else None


def get_by_id(db: Database, user_id: str) -> User | None:
    row = db.fetchone(f"SELECT {_COLUMNS} FROM users WHERE id = ?", [user_id])
    return User(*row) if row else None


def list_users(db: Database) -> list[User]:
    return [User(*r) for r in db.fetchall(f"SELECT {_COLUMNS} FROM users ORDER BY created_at")]


def set_password_hash(db: Database, user_id: str, password_hash: str) -> None:
    with db.write() as cur:
        cur.execute("UPDATE users SET password_hash = ? WHERE id = ?", [password_hash, user_id])


def set_disabled(db: Database, user_id: str, disabled: bool) -> None:
    with db.write() as cur:
        cur.execute("UPDATE users SET disabled = ? WHERE id = ?", [disabled, user_id])


def erase_user(db: Database, user_id: str) -> None:
    """Erase the account's personal data and disable it.

    The row stays (emptied) because sessions, projects and audit entries refer to it by foreign key.
    """
    with db.write() as cur:
        cur.execute(
            "UPDATE users SET username = ?, email = ?, name = 'Deleted user', password_hash = '!', disabled = TRUE, "
            "is_admin = FALSE WHERE id = ?",
            [f"deleted-{user_id}", f"deleted-{user_id}@invalid", user_id],
        )
