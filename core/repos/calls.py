"""SQL for the model call log (llm_calls)."""

from __future__ import annotations

import pandas as pd

from core.clock import utcnow
from core.db import Database
from core.ids import new_id
from core.llm.protocol import CallRecord

_COLUMNS = ("id, created_at, session_id, participant_id, purpose, model, endpoint_host, prompt_version, "
            "input_tokens, output_tokens, latency_ms, outcome, error, attempt, tokens_estimated")
GROUPINGS = {"session": "c.session_id", "purpose": "c.purpose"}


def insert_call(db: Database, record: CallRecord) -> str:
    """Store one CallRecord; returns the row id."""
    row_id = new_id()
    with db.write() as cur:
        cur.execute(
            f"INSERT INTO llm_calls ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [row_id, utcnow(), record.session_id, record.participant_id, record.purpose, record.model,
             record.endpoint_host, record.prompt_version, record.input_tokens, record.output_tokens,
             record.latency_ms, record.outcome, record.error, record.attempt, record.tokens_estimated],
        )
    return row_id


def calls_frame(db: Database, session_id: str | None = None, limit: int = 1000) -> pd.DataFrame:
    """The most recent calls (of one session, when given), newest first."""
    where, params = ("WHERE session_id = ?", [session_id]) if session_id else ("", [])
    return db.fetchdf(f"SELECT {_COLUMNS} FROM llm_calls {where} ORDER BY created_at DESC LIMIT ?",
                      [*params, int(limit)])


def totals_by_model(db: Database, by: str, session_id: str | None = None) -> pd.DataFrame:
    """Calls, failures, tokens and latency per (`by` key, model): the model is kept for pricing. With
    `session_id`, that session's calls only."""
    key = GROUPINGS[by]
    where, params = ("WHERE c.session_id = ?", [session_id]) if session_id else ("", [])
    return db.fetchdf(
        f"""
        SELECT {key} AS key, max(s.name) AS session_name, c.model,
               count(*) AS calls,
               count(*) FILTER (WHERE c.outcome NOT IN ('ok', 'cancelled')) AS failed,
               coalesce(sum(c.input_tokens), 0) AS input_tokens,
               coalesce(sum(c.output_tokens), 0) AS output_tokens,
               avg(c.latency_ms) AS mean_latency_ms
        FROM llm_calls c LEFT JOIN sessions s ON s.id = c.session_id
        {where}
        GROUP BY {key}, c.model
        ORDER BY key, c.model
        """, params
    )
