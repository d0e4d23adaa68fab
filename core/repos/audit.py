"""SQL for the audit log."""

from __future__ import annotations

import json

from core.clock import utcnow
from core.db import Database
from core.ids import new_id


def insert_audit(db: Database, actor_id: str | None, action: str, resource_type: str, resource_id: str,
                 detail: dict) -> None:
    with db.write() as cur:
        cur.execute("INSERT INTO audit_log VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [new_id(), utcnow(), actor_id, action, resource_type, resource_id, json.dumps(detail)])


def audit_frame(db: Database, limit: int = 500):
    return db.fetchdf(
        "SELECT a.created_at, coalesce(u.username, '(command line)') AS actor, a.action, a.resource_type, "
        "a.resource_id, a.detail FROM audit_log a LEFT JOIN users u ON u.id = a.actor_id "
        "ORDER BY a.created_at DESC LIMIT ?",
        [limit],
    )
