"""SQL for app-wide settings changed at run time (key, value)."""

from __future__ import annotations

from core.db import Database


def get_setting(db: Database, key: str, default: str) -> str:
    row = db.fetchone("SELECT value FROM app_settings WHERE key = ?", [key])
    return row[0] if row else default


def set_setting(db: Database, key: str, value: str) -> None:
    with db.write() as cur:
        cur.execute("DELETE FROM app_settings WHERE key = ?", [key])
        cur.execute("INSERT INTO app_settings VALUES (?, ?)", [key, value])
