"""SQL for API keys (core/apikeys.py decides who may do what with them)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from core.clock import utcnow
from core.db import Database

_COLUMNS = "id, user_id, name, key_prefix, created_at, last_used_at, revoked_at"


@dataclass(frozen=True)
class ApiKey:
    id: str
    user_id: str
    name: str
    key_prefix: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


def insert_key(db: Database, key_id: str, user_id: str, name: str, prefix: str, key_hash: str) -> ApiKey:
    key = ApiKey(key_id, user_id, name, prefix, utcnow(), None, None)
    with db.write() as cur:
        cur.execute(f"INSERT INTO api_keys ({_COLUMNS}, key_hash) VALUES (?, ?, ?, ?, ?, NULL, NULL, ?)",
                    [key.id, key.user_id, key.name, key.key_prefix, key.created_at, key_hash])
    return key


def list_keys(db: Database, user_id: str) -> list[ApiKey]:
    return [ApiKey(*r) for r in db.fetchall(
        f"SELECT {_COLUMNS} FROM api_keys WHERE user_id = ? ORDER BY created_at DESC", [user_id])]


def get_key(db: Database, key_id: str) -> ApiKey | None:
    row = db.fetchone(f"SELECT {_COLUMNS} FROM api_keys WHERE id = ?", [key_id])
    return ApiKey(*row) if row else None


def find_active_by_hash(db: Database, key_hash: str) -> ApiKey | None:
    row = db.fetchone(f"SELECT {_COLUMNS} FROM api_keys WHERE key_hash = ? AND revoked_at IS NULL", [key_hash])
    return ApiKey(*row) if row else None


def touch(db: Database, key_id: str) -> None:
    with db.write() as cur:
        cur.execute("UPDATE api_keys SET last_used_at = ? WHERE id = ?", [utcnow(), key_id])


def revoke(db: Database, key_id: str) -> None:
    with db.write() as cur:
        cur.execute("UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL", [utcnow(), key_id])


def admit_request(db: Database, key_id: str, per_minute: int, now: datetime) -> datetime | None:
    """Record a request by the key unless it made `per_minute` in the minute before `now`: then nothing is recorded
    and the answer is when the oldest of them leaves the window. Serialised per key, so replicas count together."""
    with db.write(serial=f"api requests of {key_id}") as cur:
        cur.execute("DELETE FROM api_requests WHERE key_id = ? AND requested_at <= ?",
                    [key_id, now - timedelta(minutes=1)])
        count, oldest = cur.execute("SELECT count(*), min(requested_at) FROM api_requests WHERE key_id = ?",
                                    [key_id]).fetchone()
        if count >= per_minute:
            return oldest + timedelta(minutes=1)
        cur.execute("INSERT INTO api_requests VALUES (?, ?)", [key_id, now])
    return None
