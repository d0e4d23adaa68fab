"""SQL for the results page at any size: counts, aggregates and pages computed in DuckDB.

The results page of a session with 200,000 imported participants must not pull every participant or every answer
into pandas on each rerun. What it shows on first load is computed here as aggregates (participation counts, the
median answer length, completion by step, coverage counts, the input hash of the answers); the participants table
and the transcript picker read one page at a time. Every function returns a bounded result whatever the session
size, except `answers_digest`, which streams the answers through DuckDB's string aggregate (one pass, no frame).

Word counts are stored with each message (messages.words, core.text.word_count, since migration 10); a row without
one is counted with `[\\p{L}\\p{N}_]+`, the same characters as Python's `\\w`.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

import pandas as pd

from core.db import Database, fetch_in
from core.repos.participants import STATUS_SHOWN


def _message_words(db: Database) -> str:
    """SQL for the words of message `m`: stored when it is written (m0010), counted for rows written without it."""
    return f"coalesce(m.words, {db.dialect.word_count('m.content')})"


def _in(values: list[str]) -> str:
    return ", ".join("?" for _ in values) or "NULL"


# ------------------------------------------------------------------------------------------ counts


def participation(db: Database, session_id: str) -> dict[str, int]:
    """Real (not simulated) participants: started, finished, included."""
    row = db.fetchone(
        "SELECT count(*), count(*) FILTER (WHERE status = 'finished'), count(*) FILTER (WHERE included), "
        "count(*) FILTER (WHERE status = 'finished' AND coalesce(ended_early, false)) "
        "FROM participants WHERE session_id = ? AND NOT simulated",
        [session_id],
    )
    return {"started": int(row[0]), "finished": int(row[1] or 0), "included": int(row[2] or 0),
            "ended_early": int(row[3] or 0)}


def median_answer_words(db: Database, session_id: str) -> float:
    """Median word count of real participants' answers (0 when there is none)."""
    row = db.fetchone(
        f"""
        SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY {_message_words(db)})
        FROM messages m JOIN participants p ON p.id = m.participant_id
        WHERE p.session_id = ? AND NOT p.simulated AND m.role = 'participant' AND m.kind = 'answer'
        """,
        [session_id],
    )
    return float(row[0]) if row and row[0] is not None else 0.0


def step_reach(db: Database, session_id: str) -> pd.DataFrame:
    """Per guide step index: real participants who reached it (answered or skipped) and who answered it."""
    return db.fetchdf(
        """
        SELECT m.step, count(DISTINCT m.participant_id) AS reached,
               count(DISTINCT m.participant_id) FILTER (WHERE m.kind = 'answer') AS answered
        FROM messages m JOIN participants p ON p.id = m.participant_id
        WHERE p.session_id = ? AND NOT p.simulated AND m.role = 'participant' AND m.kind IN ('answer', 'skip')
        GROUP BY m.step ORDER BY m.step
        """,
        [session_id],
    )


def coverage_counts(db: Database, session_id: str, step_items: pd.DataFrame, thin_words: int) -> pd.DataFrame:
    """Critical-item coverage as counts: per item, how many included real participants answered it, answered thinly
    (fewer than `thin_words` words), skipped it, or never reached it (each participant counted once, at their best).

    `step_items`: (session_id, guide_version, step, item) rows, the critical item each step of each guide version
    serves. Returns rows (item, status, participants) for the statuses that occur; "not reached" is left to the
    caller (included participants minus the others).
    """
    if step_items.empty:
        return pd.DataFrame(columns=["item", "status", "participants"])
    with db.read() as cur:
        cur.register("step_items", step_items)
        try:
            return cur.execute(
                f"""
                WITH best AS (
                    SELECT m.participant_id, s.item,
                           max(CASE WHEN m.kind = 'skip' THEN 1
                                    WHEN {_message_words(db)} < ? THEN 2
                                    ELSE 3 END) AS level
                    FROM messages m JOIN participants p ON p.id = m.participant_id
                    JOIN step_items s ON s.session_id = p.session_id AND s.guide_version = p.guide_version
                                     AND s.step = m.step
                    WHERE p.session_id = ? AND p.included AND NOT p.simulated AND m.role = 'participant'
                      AND m.kind IN ('answer', 'skip')
                    GROUP BY m.participant_id, s.item)
                SELECT item, CASE level WHEN 1 THEN 'skipped' WHEN 2 THEN 'thin' ELSE 'answered' END AS status,
                       count(*) AS participants
                FROM best GROUP BY item, level ORDER BY item, level
                """,
                [thin_words, session_id],
            ).df()
        finally:
            cur.unregister("step_items")


_digests: OrderedDict[tuple, str] = OrderedDict()
_digests_lock = threading.Lock()


def answers_digest(db: Database, session_ids: list[str], prefix: str, include_simulated: bool) -> str:
    """sha256 (hex) of `prefix` followed by "<message id>\\0<content>\\1" for every answer of the included
    participants of the sessions (simulated ones only when asked), in message id order: the same bytes
    core.synthesis.pipeline hashes from a DataFrame, computed in one DuckDB pass.

    Remembered per process under a fingerprint of which answers count (their ids, and their participants' included
    and simulated flags, summed as 64-bit hashes): a message's text never changes once written, so the same set of
    answers has the same digest, and the results page does not hash 30 MB of text on every rerun."""
    where = (f"p.session_id IN ({_in(session_ids)}) AND m.role = 'participant' AND m.kind = 'answer' "
             "AND p.included AND (? OR NOT p.simulated)")
    params = [*session_ids, include_simulated]
    fingerprint = db.fetchone(f"SELECT count(*), {db.dialect.hash_sum('m.id')} FROM messages m "
                              f"JOIN participants p ON p.id = m.participant_id WHERE {where}", params)
    key = (str(db.path), tuple(session_ids), prefix, include_simulated, fingerprint[0], str(fingerprint[1]))
    with _digests_lock:
        if key in _digests:
            _digests.move_to_end(key)
            return _digests[key]
    digest = _answers_digest(db, where, params, prefix)
    with _digests_lock:
        _digests[key] = digest
        while len(_digests) > 256:
            _digests.popitem(last=False)
    return digest


def _answers_digest(db: Database, where: str, params: list, prefix: str) -> str:
    row = db.fetchone(
        f"""
        SELECT {db.dialect.answers_sha256("m.id", "m.content")}
        FROM messages m JOIN participants p ON p.id = m.participant_id WHERE {where}
        """,
        [prefix, *params],
    )
    return row[0]


# ------------------------------------------------------------------------------------------- pages


def count_participants(db: Database, session_id: str) -> int:
    return int(db.fetchone("SELECT count(*) FROM participants WHERE session_id = ?", [session_id])[0])


def participants_page(db: Database, session_id: str, offset: int, limit: int) -> pd.DataFrame:
    """One page of the participants table (by participant number): the columns of
    core.repos.participants.activity_frame, message counts computed for this page only."""
    return db.fetchdf(
        f"""
        WITH page AS (
            SELECT p.id, p.number, {STATUS_SHOWN} AS status, p.simulated, p.included, p.started_at, p.finished_at
            FROM participants p WHERE p.session_id = ? ORDER BY p.number LIMIT ? OFFSET ?)
        SELECT page.id, page.number, page.status, page.simulated, page.included, page.started_at, page.finished_at,
               count(m.id) FILTER (WHERE m.role = 'participant') AS messages, max(m.created_at) AS last_activity
        FROM page LEFT JOIN messages m ON m.participant_id = page.id
        GROUP BY page.id, page.number, page.status, page.simulated, page.included, page.started_at, page.finished_at
        ORDER BY page.number
        """,
        [session_id, limit, offset],
    )


def form_answers_of(db: Database, participant_ids: list[str]) -> pd.DataFrame:
    """Form answers (participant_id, field_key, value) of the given participants (one page of them)."""
    return db.fetchdf(f"SELECT participant_id, field_key, value FROM form_answers "
                      f"WHERE participant_id IN ({_in(participant_ids)})", participant_ids)


def participant_position(db: Database, session_id: str, participant_id: str) -> int | None:
    """0-based position of the participant in the session's table (ordered by number), or None."""
    row = db.fetchone("SELECT (SELECT count(*) FROM participants o WHERE o.session_id = p.session_id "
                      "AND o.number < p.number) FROM participants p WHERE p.id = ? AND p.session_id = ?",
                      [participant_id, session_id])
    return int(row[0]) if row else None


def participant_numbers(db: Database, participant_ids: list[str]) -> dict[str, int]:
    """participant id -> number, for the given participants only (e.g. the authors of a run's quotes)."""
    return dict(fetch_in(db, "SELECT id, number FROM participants WHERE id IN ({values})", participant_ids))


# -------------------------------------------------------------------------------- synthesis runs


def statements_by_id(db: Database, run_id: str, statement_ids: list[str]) -> pd.DataFrame:
    """The given statements of a run (a run's quotes), with the columns of synthesis.statements_frame."""
    return db.fetchdf(
        "SELECT statement_id, message_id, participant_id, session_id, step, critical_item, question, start_pos, "
        "end_pos, text, content_hash, theme_id, score, sentiment FROM synthesis_statements "
        f"WHERE run_id = ? AND statement_id IN ({_in(statement_ids)})", [run_id, *statement_ids])


def theme_session_counts(db: Database, run_id: str) -> pd.DataFrame:
    """Distinct participants per (theme, session) of a run."""
    return db.fetchdf("SELECT theme_id, session_id, count(DISTINCT participant_id) AS participants "
                      "FROM synthesis_statements WHERE run_id = ? AND theme_id IS NOT NULL "
                      "GROUP BY theme_id, session_id", [run_id])


def memberships(db: Database, run_id: str) -> pd.DataFrame:
    """(participant_id, theme_id) of every statement of a run, theme_id null when unassigned: what segment tables
    need, without the statements' text."""
    return db.fetchdf("SELECT participant_id, theme_id FROM synthesis_statements WHERE run_id = ? "
                      "ORDER BY statement_id", [run_id])
