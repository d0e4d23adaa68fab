"""Process-wide resources for pages: the database."""

from __future__ import annotations

from core.config import settings
from core.db import Database, open_database


def db() -> Database:
    """The app's database (opened and migrated once per process by core.db)."""
    return open_database(settings().db_path)
