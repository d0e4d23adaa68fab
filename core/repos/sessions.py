"""SQL for sessions, their guide versions and their form definitions."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from core.clock import utcnow
from core.db import Database
from core.forms import FormField
from core.guide import Step


@dataclass(frozen=True)
class SessionRow:
    id: str
    owner_id: str
    name: str
    objective: str
    critical_items: list[str]
    context: str
    template_key: str | None
    status: str
    language: str
    max_turns: int
    anonymous: bool
    guide_version: int | None
    created_at: datetime
    updated_at: datetime
    project_id: str | None = None
    visibility: str = "editors"
    consent_text: str = ""
    redact: bool = True       # personal details replaced before any model call (migration 0013: every session)
    language_choice: bool = False   # participants may pick the conversation's language
    audience_quotes: bool = False   # participants and public links may show verbatim quotes (core/audience.py)
    audience_min_people: int = 3    # k: quotes shown to them come only from themes raised by at least k people


@dataclass(frozen=True)
class GuideVersion:
    version: int
    steps: list[Step]
    note: str
    source: str
    created_at: datetime


_COLUMNS = ("id, owner_id, name, objective, critical_items, context, template_key, status, language, "
            "max_turns, anonymous, guide_version, created_at, updated_at, "
            "project_id, visibility, consent_text, redact, "
            "language_choice, audience_quotes, audience_min_people")


def _session(row: tuple) -> SessionRow:
    values = list(row)
    values[4] = json.loads(values[4])
    return SessionRow(*values)


def insert_session(db: Database, row: SessionRow) -> None:
    """Insert the session and make `row.owner_id` its owner, in one transaction."""
    with db.write() as cur:
        cur.execute(
            f"INSERT INTO sessions ({_COLUMNS}) VALUES ({', '.join('?' * len(_COLUMNS.split(',')))})",
            [row.id, row.owner_id, row.name, row.objective, json.dumps(row.critical_items), row.context,
             row.template_key, row.status, row.language, row.max_turns, row.anonymous, row.guide_version,
             row.created_at, row.updated_at, row.project_id, row.visibility, row.consent_text, row.redact,
             row.language_choice, row.audience_quotes, row.audience_min_people],
        )
        cur.execute("INSERT INTO memberships VALUES ('session', ?, ?, 'owner', ?)",
                    [row.id, row.owner_id, row.created_at])


def get_session(db: Database, session_id: str) -> SessionRow | None:
    row = db.fetchone(f"SELECT {_COLUMNS} FROM sessions WHERE id = ?", [session_id])
    return _session(row) if row else None


def get_sessions(db: Database, session_ids: list[str]) -> dict[str, SessionRow]:
    """The sessions of these ids that exist, by id (one query)."""
    if not session_ids:
        return {}
    rows = db.fetchall(f"SELECT {_COLUMNS} FROM sessions WHERE list_contains(?, id)", [list(session_ids)])
    return {s.id: s for s in map(_session, rows)}


def update_session(db: Database, session_id: str, **values) -> None:
    """Update the named columns (names are checked against the schema, values are parameters)."""
    # owner_id is a foreign key: DuckDB rewrites such a row on UPDATE and then rejects it while other
    # tables reference the session. Ownership lives in memberships; owner_id records the creator.
    allowed = set(_COLUMNS.replace(" ", "").split(",")) - {"id", "owner_id", "created_at"}
    unknown = set(values) - allowed
    if unknown:
        raise ValueError(f"unknown session columns: {sorted(unknown)}")
    if "critical_items" in values:
        values["critical_items"] = json.dumps(values["critical_items"])
    values["updated_at"] = utcnow()
    names = sorted(values)
    with db.write() as cur:
        cur.execute(
            f"UPDATE sessions SET {', '.join(f'{n} = ?' for n in names)} WHERE id = ?",
            [values[n] for n in names] + [session_id],
        )


def list_sessions_with_stats(db: Database, session_ids: list[str]) -> list[dict]:
    """The given sessions with participant counts and last activity, most recent first ("finished" counts those who
    completed the guide and those who ended early)."""
    if not session_ids:
        return []
    where = f"WHERE s.id IN ({', '.join('?' * len(session_ids))})"
    params = list(session_ids)
    return db.fetchdicts(
        f"""
        SELECT id, name, status, owner_id, project_id, created_at, updated_at, started, finished, ended_early,
               simulated,
               greatest(updated_at, coalesce(last_message_at, updated_at)) AS last_activity
        FROM (
        SELECT s.id, s.name, s.status, s.owner_id, s.project_id, s.created_at, s.updated_at,
               count(p.id) FILTER (WHERE NOT p.simulated) AS started,
               count(p.id) FILTER (WHERE p.status = 'finished' AND NOT p.simulated) AS finished,
               count(p.id) FILTER (WHERE p.status = 'finished' AND coalesce(p.ended_early, false) AND NOT p.simulated)
                   AS ended_early,
               count(p.id) FILTER (WHERE p.simulated) AS simulated,
               max(m.last_at) AS last_message_at
        FROM sessions s
        LEFT JOIN participants p ON p.session_id = s.id
        LEFT JOIN (SELECT participant_id, max(created_at) AS last_at FROM messages GROUP BY participant_id) m
               ON m.participant_id = p.id
        {where}
        GROUP BY s.id, s.name, s.status, s.owner_id, s.project_id, s.created_at, s.updated_at
        ) stats
        ORDER BY last_activity DESC
        """,
        params,
    )


def add_guide_version(db: Database, session_id: str, steps: list[Step], note: str, source: str) -> int:
    """Store a new guide version and make it the session's current one; return its number."""
    with db.write(serial=f"guide of {session_id}") as cur:
        version = cur.execute(
            "SELECT coalesce(max(version), 0) + 1 FROM guide_versions WHERE session_id = ?", [session_id]
        ).fetchone()[0]
        cur.execute(
            "INSERT INTO guide_versions VALUES (?, ?, ?, ?, ?, ?)",
            [session_id, version, json.dumps([s.to_dict() for s in steps]), note, source, utcnow()],
        )
        cur.execute(
            "UPDATE sessions SET guide_version = ?, updated_at = ? WHERE id = ?", [version, utcnow(), session_id]
        )
    return version


def list_guide_versions(db: Database, session_id: str) -> list[GuideVersion]:
    rows = db.fetchall(
        "SELECT version, steps, note, source, created_at FROM guide_versions WHERE session_id = ? "
        "ORDER BY version DESC",
        [session_id],
    )
    return [GuideVersion(v, [Step.from_dict(s) for s in json.loads(steps)], n, src, at)
            for v, steps, n, src, at in rows]


def get_guide_version(db: Database, session_id: str, version: int) -> GuideVersion | None:
    row = db.fetchone(
        "SELECT version, steps, note, source, created_at FROM guide_versions WHERE session_id = ? AND version = ?",
        [session_id, version],
    )
    if not row:
        return None
    v, steps, n, src, at = row
    return GuideVersion(v, [Step.from_dict(s) for s in json.loads(steps)], n, src, at)


def replace_form(db: Database, session_id: str, fields: list[FormField]) -> None:
    with db.write() as cur:
        cur.execute("DELETE FROM form_fields WHERE session_id = ?", [session_id])
        for position, f in enumerate(fields):
            cur.execute(
                # named columns: migrations add columns (share_with_model in m0002, identifying in m0004)
                "INSERT INTO form_fields (session_id, position, key, label, type, required, options, min_value, "
                "max_value, share_with_model, identifying) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [session_id, position, f.key, f.label, f.type, f.required, json.dumps(f.options), f.min, f.max,
                 f.share_with_model, f.identifying],
            )
        cur.execute("UPDATE sessions SET updated_at = ? WHERE id = ?", [utcnow(), session_id])


def get_form(db: Database, session_id: str) -> list[FormField]:
    rows = db.fetchall(
        "SELECT key, label, type, required, options, min_value, max_value, coalesce(share_with_model, FALSE), "
        "coalesce(identifying, FALSE) FROM form_fields WHERE session_id = ? ORDER BY position",
        [session_id],
    )
    return [FormField(k, label, t, req, json.loads(opts), mn, mx, share, ident)
            for k, label, t, req, opts, mn, mx, share, ident in rows]


def delete_session_rows(db: Database, session_id: str) -> None:
    """Delete a session and every row under it: children first, one transaction per table.

    DuckDB checks foreign keys against committed state, so a child and its parent cannot be deleted in
    the same transaction. A failure part-way leaves a smaller, consistent session that a second delete
    finishes. Tables are found by their `participant_id` / `session_id` columns, so tables added by later
    features are covered; call-log rows are unlinked instead (see KEEP_WITHOUT_PARTICIPANT).
    """
    from core.repos.participants import KEEP_WITHOUT_PARTICIPANT

    def tables_with(column: str) -> list[str]:
        return [r[0] for r in db.fetchall(
            "SELECT table_name FROM information_schema.columns WHERE column_name = ? "
            "AND table_schema = current_schema() ORDER BY table_name", [column])]

    in_session = "SELECT id FROM participants WHERE session_id = ?"
    for table in tables_with("participant_id"):
        with db.write() as cur:
            if table in KEEP_WITHOUT_PARTICIPANT:
                cur.execute(f'UPDATE "{table}" SET participant_id = NULL WHERE participant_id IN ({in_session})',
                            [session_id])
            else:
                cur.execute(f'DELETE FROM "{table}" WHERE participant_id IN ({in_session})', [session_id])
    for table in tables_with("session_id"):
        if table in ("participants",) or table in KEEP_WITHOUT_PARTICIPANT:
            continue
        with db.write() as cur:
            cur.execute(f'DELETE FROM "{table}" WHERE session_id = ?', [session_id])
    with db.write() as cur:
        cur.execute("DELETE FROM participants WHERE session_id = ?", [session_id])
    with db.write() as cur:
        cur.execute("DELETE FROM sessions WHERE id = ?", [session_id])
