"""SQL for participants, their form answers and their messages."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

import pandas as pd

from core.clock import utcnow
from core.db import Database
from core.ids import new_id, new_token
from core.text import count_tokens, word_count


@dataclass(frozen=True)
class Participant:
    id: str
    session_id: str
    token: str
    number: int
    user_id: str | None
    status: str
    guide_version: int
    step: int
    probed: bool
    simulated: bool
    included: bool
    started_at: datetime
    finished_at: datetime | None
    language: str | None = None   # the participant's choice, when the session allows one


@dataclass(frozen=True)
class Message:
    id: str
    participant_id: str
    seq: int
    role: str
    kind: str
    step: int
    content: str
    tokens: int
    source: str
    created_at: datetime


_P_COLUMNS = ("id, session_id, token, number, user_id, status, guide_version, step, probed, simulated, included, "
              "started_at, finished_at, language")
_M_COLUMNS = "id, participant_id, seq, role, kind, step, content, tokens, source, created_at"


def insert_participant(db: Database, session_id: str, guide_version: int, status: str,
                       simulated: bool = False, user_id: str | None = None,
                       answers: dict[str, str] | None = None, language: str | None = None,
                       external_id: str | None = None) -> Participant:
    """Create a participant together with their form answers, in one transaction. With `external_id` (a client's
    own name for the participant, e.g. through the API), the one already holding it is returned instead: the check
    and the insert run serialised per session (so do the participant numbers), so two first requests at once still
    make one participant."""
    with db.write(serial=f"participants of {session_id}") as cur:
        if external_id is not None:
            row = cur.execute(f"SELECT {_P_COLUMNS} FROM participants WHERE id = (SELECT participant_id FROM "
                              "client_participants WHERE session_id = ? AND client_id = ?)",
                              [session_id, external_id]).fetchone()
            if row:
                return Participant(*row)
        number = cur.execute(
            "SELECT coalesce(max(number), 0) + 1 FROM participants WHERE session_id = ?", [session_id]
        ).fetchone()[0]
        p = Participant(new_id(), session_id, new_token(), number, user_id, status, guide_version, 0, False,
                        simulated, True, utcnow(), None, language)
        cur.execute(
            f"INSERT INTO participants ({_P_COLUMNS}) VALUES ({', '.join('?' * 14)})",
            [p.id, p.session_id, p.token, p.number, p.user_id, p.status, p.guide_version, p.step, p.probed,
             p.simulated, p.included, p.started_at, p.finished_at, p.language],
        )
        for key, value in (answers or {}).items():
            cur.execute("INSERT INTO form_answers VALUES (?, ?, ?)", [p.id, key, value])
        # joining means consenting: the chat page refuses to join without the consent box ticked
        cur.execute("UPDATE participants SET consented_at = ? WHERE id = ?", [p.started_at, p.id])
        if external_id is not None:
            cur.execute("INSERT INTO client_participants VALUES (?, ?, ?)", [session_id, external_id, p.id])
    return p


def get_by_token(db: Database, token: str) -> Participant | None:
    row = db.fetchone(f"SELECT {_P_COLUMNS} FROM participants WHERE token = ?", [token])
    return Participant(*row) if row else None


def get_participant(db: Database, participant_id: str) -> Participant | None:
    row = db.fetchone(f"SELECT {_P_COLUMNS} FROM participants WHERE id = ?", [participant_id])
    return Participant(*row) if row else None


def find_by_external_id(db: Database, session_id: str, external_id: str) -> Participant | None:
    row = db.fetchone(f"SELECT {_P_COLUMNS} FROM participants WHERE id = (SELECT participant_id FROM "
                      "client_participants WHERE session_id = ? AND client_id = ?)", [session_id, external_id])
    return Participant(*row) if row else None


def find_for_user(db: Database, session_id: str, user_id: str) -> Participant | None:
    row = db.fetchone(f"SELECT {_P_COLUMNS} FROM participants WHERE session_id = ? AND user_id = ?",
                      [session_id, user_id])
    return Participant(*row) if row else None


def list_participants(db: Database, session_id: str) -> list[Participant]:
    rows = db.fetchall(f"SELECT {_P_COLUMNS} FROM participants WHERE session_id = ? ORDER BY number", [session_id])
    return [Participant(*r) for r in rows]


def update_participant(db: Database, participant_id: str, **values) -> None:
    allowed = {"status", "step", "probed", "included", "finished_at"}
    if set(values) - allowed:
        raise ValueError(f"unknown participant columns: {sorted(set(values) - allowed)}")
    names = sorted(values)
    with db.write() as cur:
        cur.execute(
            f"UPDATE participants SET {', '.join(f'{n} = ?' for n in names)} WHERE id = ?",
            [values[n] for n in names] + [participant_id],
        )


def get_form_answers(db: Database, participant_id: str) -> dict[str, str]:
    rows = db.fetchall("SELECT field_key, value FROM form_answers WHERE participant_id = ?", [participant_id])
    return dict(rows)


class StaleConversation(Exception):
    """The conversation changed since the caller read it (e.g. a double submit); nothing was written."""


def append_message(db: Database, participant_id: str, role: str, kind: str, step: int, content: str,
                   source: str = "offline", participant_state: dict | None = None,
                   after_seq: int | None = None) -> Message:
    """Append a message (committed before this returns); optionally update the participant in the same transaction.

    With `after_seq`, the message is written only if the conversation's last message is still that one,
    checked in a write serialised per conversation (across replicas on PostgreSQL): two submits racing from one
    participant cannot both be stored.
    """
    with db.write(serial=f"conversation {participant_id}") as cur:
        seq = cur.execute(
            "SELECT coalesce(max(seq), 0) + 1 FROM messages WHERE participant_id = ?", [participant_id]
        ).fetchone()[0]
        if after_seq is not None and seq != after_seq + 1:
            raise StaleConversation(participant_id)
        msg = Message(new_id(), participant_id, seq, role, kind, step, content, count_tokens(content), source,
                      utcnow())
        cur.execute(
            f"INSERT INTO messages ({_M_COLUMNS}, words) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [msg.id, msg.participant_id, msg.seq, msg.role, msg.kind, msg.step, msg.content, msg.tokens,
             msg.source, msg.created_at, word_count(content)],
        )
        if participant_state:
            names = sorted(participant_state)
            cur.execute(
                f"UPDATE participants SET {', '.join(f'{n} = ?' for n in names)} WHERE id = ?",
                [participant_state[n] for n in names] + [participant_id],
            )
    return msg


def list_messages(db: Database, participant_id: str) -> list[Message]:
    rows = db.fetchall(f"SELECT {_M_COLUMNS} FROM messages WHERE participant_id = ? ORDER BY seq", [participant_id])
    return [Message(*r) for r in rows]


# A participant's status as people read it: a finished conversation either completed the guide or ended early.
STATUS_SHOWN = ("CASE WHEN p.status = 'finished' AND coalesce(p.ended_early, false) THEN 'ended early' "
                "WHEN p.status = 'finished' THEN 'completed' ELSE p.status END")
FINISHED_SHOWN = ("completed", "ended early")


def activity_frame(db: Database, session_id: str) -> pd.DataFrame:
    """One row per participant: status, answers sent and last activity (the results' participants table)."""
    return db.fetchdf(
        f"""
        SELECT p.id, p.number, {STATUS_SHOWN} AS status, p.simulated, p.included, p.started_at, p.finished_at,
               count(m.id) FILTER (WHERE m.role = 'participant') AS messages,
               max(m.created_at) AS last_activity
        FROM participants p LEFT JOIN messages m ON m.participant_id = p.id
        WHERE p.session_id = ?
        GROUP BY p.id, p.number, p.status, p.ended_early, p.simulated, p.included, p.started_at, p.finished_at
        ORDER BY p.number
        """,
        [session_id],
    )


def load_json_list(value: str) -> list[str]:
    try:
        parsed = json.loads(value)
    except (TypeError, ValueError):
        return [value]
    return [str(v) for v in parsed] if isinstance(parsed, list) else [str(parsed)]


# Rows that hold no participant text and must outlive them (usage and cost history): unlinked, not deleted.
KEEP_WITHOUT_PARTICIPANT = {"llm_calls"}


def delete_participant_rows(db: Database, participant_id: str) -> None:
    """Delete a participant and every row that names them, children first (see delete_session_rows).

    Tables are found by their `participant_id` column, so data that later features derive from a
    participant (quotes, theme assignments, extractions) is deleted without a list to keep up to date.
    """
    tables = [r[0] for r in db.fetchall(
        "SELECT table_name FROM information_schema.columns WHERE column_name = 'participant_id' "
        "AND table_schema = current_schema() ORDER BY table_name")]
    for table in tables:
        with db.write() as cur:
            if table in KEEP_WITHOUT_PARTICIPANT:
                cur.execute(f'UPDATE "{table}" SET participant_id = NULL WHERE participant_id = ?', [participant_id])
            else:
                cur.execute(f'DELETE FROM "{table}" WHERE participant_id = ?', [participant_id])
    with db.write() as cur:
        cur.execute("DELETE FROM participants WHERE id = ?", [participant_id])
