"""Time in one place: naive UTC timestamps, as stored in DuckDB TIMESTAMP columns."""

from datetime import datetime, timezone


def utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)
