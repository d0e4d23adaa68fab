"""SQL for synthesis: runs, themes, statements, embedding cache, fitted models, codebook edits, pinned insights,
and the bulk loads of an import. Bulk writes go through DataFrames (DuckDB executemany is far slower)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

import pandas as pd

from core.clock import utcnow
from core.db import Database, fetch_in
from core.ids import new_id
from core.text import word_count


def _in(values: list[str]) -> str:
    return ", ".join("?" for _ in values) or "NULL"


# ------------------------------------------------------------------------------------------ inputs


def answers_frame(db: Database, session_ids: list[str]) -> pd.DataFrame:
    """Participant answers of the sessions with what analysis needs (all participants; callers filter)."""
    return db.fetchdf(
        f"""
        SELECT m.id AS message_id, m.participant_id, p.session_id, p.number, p.included, p.simulated,
               p.status, p.guide_version, m.step, m.seq, m.kind, m.content
        FROM messages m JOIN participants p ON p.id = m.participant_id
        WHERE p.session_id IN ({_in(session_ids)}) AND m.role = 'participant' AND m.kind IN ('answer', 'skip')
        ORDER BY p.session_id, p.number, m.seq
        """,
        session_ids,
    )


def prompts_frame(db: Database, session_ids: list[str]) -> pd.DataFrame:
    """The facilitator's questions and probes as asked (distinct texts per session and step): the context answers
    respond to, never clustered themselves (core.synthesis.units.feature_texts)."""
    return db.fetchdf(
        f"""
        SELECT DISTINCT p.session_id, m.step, m.content
        FROM messages m JOIN participants p ON p.id = m.participant_id
        WHERE p.session_id IN ({_in(session_ids)}) AND m.role = 'facilitator' AND m.kind IN ('question', 'probe')
        ORDER BY p.session_id, m.step, m.content
        """,
        session_ids,
    )


def message_contents(db: Database, message_ids: list[str]) -> dict[str, str]:
    """The stored text of messages (for the verbatim check), in chunks."""
    return dict(fetch_in(db, "SELECT id, content FROM messages WHERE id IN ({values})", message_ids))


def participants_frame(db: Database, session_ids: list[str]) -> pd.DataFrame:
    return db.fetchdf(
        f"""
        SELECT p.id AS participant_id, p.session_id, p.number, p.status, p.included, p.simulated, p.started_at,
               p.finished_at, i.external_id
        FROM participants p LEFT JOIN participant_imports i ON i.participant_id = p.id
        WHERE p.session_id IN ({_in(session_ids)}) ORDER BY p.session_id, p.number
        """,
        session_ids,
    )


def form_answers_frame(db: Database, session_ids: list[str]) -> pd.DataFrame:
    return db.fetchdf(
        f"SELECT a.participant_id, a.field_key, a.value FROM form_answers a "
        f"JOIN participants p ON p.id = a.participant_id WHERE p.session_id IN ({_in(session_ids)})",
        session_ids,
    )


def transcripts_frame(db: Database, session_ids: list[str]) -> pd.DataFrame:
    return db.fetchdf(
        f"""
        SELECT p.session_id, p.id AS participant_id, p.number, m.id AS message_id, m.seq, m.role, m.kind, m.step,
               m.content, m.created_at
        FROM messages m JOIN participants p ON p.id = m.participant_id
        WHERE p.session_id IN ({_in(session_ids)}) ORDER BY p.session_id, p.number, m.seq
        """,
        session_ids,
    )


# -------------------------------------------------------------------------------------------- runs


@dataclass(frozen=True)
class Run:
    id: str
    scope: str
    session_ids: list[str]
    kind: str
    parent_run_id: str | None
    status: str
    mode: str
    model: str | None
    prompt_version: str | None
    embedder: str
    params: dict
    input_hash: str
    timings: dict
    stats: dict
    summary: str
    model_id: str | None
    trigger: str
    error: str | None
    created_at: datetime
    finished_at: datetime | None


_RUN_COLUMNS = ("id, scope, session_ids, kind, parent_run_id, status, mode, model, prompt_version, embedder, params, "
                "input_hash, timings, stats, summary, model_id, trigger, error, created_at, finished_at")


def _run(row: tuple) -> Run:
    v = list(row)
    for i in (2, 10, 12, 13):
        v[i] = json.loads(v[i])
    return Run(*v)


def start_run(db: Database, scope: str, session_ids: list[str], kind: str, mode: str, embedder: str,
              params: dict, input_hash: str, trigger: str, parent_run_id: str | None = None,
              model: str | None = None, prompt_version: str | None = None) -> str:
    run_id = new_id()
    with db.write() as cur:
        cur.execute(
            f"INSERT INTO synthesis_runs ({_RUN_COLUMNS}) VALUES ({_in(list(range(20)))})",
            [run_id, scope, json.dumps(session_ids), kind, parent_run_id, "running", mode, model, prompt_version,
             embedder, json.dumps(params), input_hash, "{}", "{}", "", None, trigger, None, utcnow(), None],
        )
    return run_id


def fail_run(db: Database, run_id: str, error: str) -> None:
    with db.write() as cur:
        cur.execute("UPDATE synthesis_runs SET status = 'failed', error = ?, finished_at = ? WHERE id = ?",
                    [error[:2000], utcnow(), run_id])


def finish_run(db: Database, run_id: str, themes: pd.DataFrame, statements: pd.DataFrame, *, summary: str,
               timings: dict, stats: dict, model_id: str | None) -> None:
    """Store a run's themes and statements and mark it done, in one transaction."""
    with db.write() as cur:
        if not themes.empty:
            cur.register("run_themes", themes)
            cols = ("run_id, theme_id, position, label, description, keywords, participants, mentions, sentiment, "
                    "quotes, centroid, origin" + "".join(f", {c}" for c in ("stability", "subthemes")
                                                         if c in themes.columns))
            cur.execute(f"INSERT INTO synthesis_themes ({cols}) SELECT {cols} FROM run_themes")
            cur.unregister("run_themes")
        if not statements.empty:
            cur.register("run_statements", statements)
            cols = ("run_id, statement_id, message_id, participant_id, session_id, step, critical_item, question, "
                    "start_pos, end_pos, text, content_hash, theme_id, score, sentiment"
                    + (", subtheme_id" if "subtheme_id" in statements.columns else ""))
            cur.execute(f"INSERT INTO synthesis_statements ({cols}) SELECT {cols} FROM run_statements")
            cur.unregister("run_statements")
        cur.execute("UPDATE synthesis_runs SET status = 'done', summary = ?, timings = ?, stats = ?, model_id = ?, "
                    "finished_at = ? WHERE id = ?",
                    [summary, json.dumps(timings), json.dumps(stats), model_id, utcnow(), run_id])


def relabel_run(db: Database, run_id: str, mode: str, input_hash: str) -> None:
    """A run started in model mode with no model output in it is stored as what it is: its mode, the input hash
    of that mode, and no model or prompt version (its stats say the model was unavailable)."""
    with db.write() as cur:
        cur.execute("UPDATE synthesis_runs SET mode = ?, input_hash = ?, model = NULL, prompt_version = NULL "
                    "WHERE id = ?", [mode, input_hash, run_id])


def get_run(db: Database, run_id: str) -> Run | None:
    row = db.fetchone(f"SELECT {_RUN_COLUMNS} FROM synthesis_runs WHERE id = ?", [run_id])
    return _run(row) if row else None


def latest_run(db: Database, scope: str, status: str = "done") -> Run | None:
    row = db.fetchone(f"SELECT {_RUN_COLUMNS} FROM synthesis_runs WHERE scope = ? AND status = ? "
                      "ORDER BY created_at DESC LIMIT 1", [scope, status])
    return _run(row) if row else None


def list_runs(db: Database, scope: str, limit: int = 50) -> list[Run]:
    rows = db.fetchall(f"SELECT {_RUN_COLUMNS} FROM synthesis_runs WHERE scope = ? ORDER BY created_at DESC "
                       "LIMIT ?", [scope, limit])
    return [_run(r) for r in rows]


def themes_frame(db: Database, run_id: str) -> pd.DataFrame:
    return db.fetchdf("SELECT theme_id, position, label, description, keywords, participants, mentions, sentiment, "
                      "quotes, centroid, origin, stability, coalesce(subthemes, '[]') AS subthemes "
                      "FROM synthesis_themes WHERE run_id = ? ORDER BY position", [run_id])


def statements_frame(db: Database, run_id: str) -> pd.DataFrame:
    return db.fetchdf("SELECT statement_id, message_id, participant_id, session_id, step, critical_item, question, "
                      "start_pos, end_pos, text, content_hash, theme_id, score, sentiment, subtheme_id "
                      "FROM synthesis_statements WHERE run_id = ? ORDER BY statement_id", [run_id])


def has_statement(db: Database, run_id: str, statement_id: str) -> bool:
    return db.fetchone("SELECT count(*) FROM synthesis_statements WHERE run_id = ? AND statement_id = ?",
                       [run_id, statement_id])[0] > 0


def statement_hashes(db: Database, run_id: str) -> dict[str, str]:
    return dict(db.fetchall("SELECT statement_id, content_hash FROM synthesis_statements WHERE run_id = ?", [run_id]))


# --------------------------------------------------------------------------- fitted models, cache


def save_model(db: Database, embedder: str, state: bytes) -> str:
    model_id = new_id()
    with db.write() as cur:
        cur.execute("INSERT INTO synthesis_models VALUES (?, ?, ?, ?)", [model_id, embedder, state, utcnow()])
    return model_id


def model_exists(db: Database, model_id: str) -> bool:
    return db.fetchone("SELECT count(*) FROM synthesis_models WHERE id = ?", [model_id])[0] > 0


def prune_models(db: Database, scope: str, keep: int = 2) -> int:
    """Delete fitted models of `scope` other than the `keep` most recent ones (a model is only needed to update
    the runs built on it; every run's themes and statements stay readable). Returns how many were deleted."""
    rows = db.fetchall("SELECT model_id, max(created_at) AS last FROM synthesis_runs WHERE scope = ? AND model_id "
                       "IS NOT NULL GROUP BY model_id ORDER BY last DESC", [scope])
    old = [r[0] for r in rows[keep:]]
    if not old:
        return 0
    with db.write() as cur:
        cur.execute(f"DELETE FROM synthesis_models WHERE id IN ({_in(old)})", old)
    return len(old)


def load_model(db: Database, model_id: str) -> bytes | None:
    row = db.fetchone("SELECT state FROM synthesis_models WHERE id = ?", [model_id])
    return bytes(row[0]) if row else None


def load_embeddings(db: Database, embedder: str, hashes: list[str]) -> dict[str, bytes]:
    rows = fetch_in(db, "SELECT content_hash, vector FROM statement_embeddings WHERE embedder = ? "
                        "AND content_hash IN ({values})", hashes, [embedder])
    return {h: bytes(v) for h, v in rows}


def save_embeddings(db: Database, embedder: str, vectors: dict[str, bytes]) -> None:
    if not vectors:
        return
    frame = pd.DataFrame({"embedder": embedder, "content_hash": list(vectors), "vector": list(vectors.values()),
                          "created_at": utcnow()})
    with db.write() as cur:
        cur.register("new_vectors", frame)
        cur.execute("INSERT INTO statement_embeddings SELECT embedder, content_hash, vector, created_at "
                    "FROM new_vectors WHERE content_hash NOT IN "
                    "(SELECT content_hash FROM statement_embeddings WHERE embedder = ?)", [embedder])
        cur.unregister("new_vectors")


def count_embeddings(db: Database, embedder: str) -> int:
    return db.fetchone("SELECT count(*) FROM statement_embeddings WHERE embedder = ?", [embedder])[0]


# ----------------------------------------------------------------------------------- codebook, pins





@dataclass(frozen=True)
class Edit:
    id: str
    seq: int
    op: str
    payload: dict
    user_id: str | None
    created_at: datetime
    status: str = "applied"             # applied | pending (no longer fits the themes) | discarded (by a person)
    note: str = ""                      # why it is pending, in plain words
    candidates: tuple[str, ...] = ()    # theme ids of `run_id` its statements went to (targets to offer)
    run_id: str | None = None           # the run the status was recorded for
    updated_at: datetime | None = None  # when a person last changed it


_EDIT_COLUMNS = "id, seq, op, payload, user_id, created_at, status, note, candidates, run_id, updated_at"


def _edit(row: tuple) -> Edit:
    i, s, o, p, u, c, status, note, cands, run_id, updated = row
    return Edit(i, s, o, json.loads(p), u, c, status or "applied", note or "", tuple(json.loads(cands or "[]")),
                run_id, updated)


def add_edit(db: Database, scope: str, op: str, payload: dict, user_id: str | None,
             run_id: str | None = None) -> Edit:
    with db.write(serial=f"codebook of {scope}") as cur:
        seq = cur.execute("SELECT coalesce(max(seq), 0) + 1 FROM codebook_edits WHERE scope = ?", [scope]).fetchone()[0]
        now = utcnow()
        edit = Edit(new_id(), seq, op, payload, user_id, now, "applied", "", (), run_id, now)
        cur.execute("INSERT INTO codebook_edits (id, scope, seq, op, payload, user_id, created_at, status, note, "
                    "candidates, run_id, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [edit.id, scope, seq, op, json.dumps(payload), user_id, now, "applied", "", "[]", run_id, now])
    return edit


def list_edits(db: Database, scope: str, include_discarded: bool = True) -> list[Edit]:
    """The scope's edits in the order they are replayed (seq)."""
    rows = db.fetchall(f"SELECT {_EDIT_COLUMNS} FROM codebook_edits WHERE scope = ? "
                       + ("" if include_discarded else "AND coalesce(status, 'applied') <> 'discarded' ")
                       + "ORDER BY seq", [scope])
    return [_edit(r) for r in rows]


def get_edit(db: Database, scope: str, edit_id: str) -> Edit | None:
    row = db.fetchone(f"SELECT {_EDIT_COLUMNS} FROM codebook_edits WHERE scope = ? AND id = ?", [scope, edit_id])
    return _edit(row) if row else None


def record_edit_statuses(db: Database, scope: str, run_id: str, outcomes: dict[str, tuple[str, str, list[str]]],
                         run_started: datetime) -> None:
    """Store what a run did with each edit: {edit id: (applied | pending, note, candidate theme ids)}. Never
    touches a discarded edit, nor one a person changed after the run started (their choice is newer)."""
    with db.write() as cur:
        for edit_id, (status, note, candidates) in outcomes.items():
            if status not in ("applied", "pending"):
                raise ValueError(f"a run cannot set an edit to {status!r}")
            cur.execute("UPDATE codebook_edits SET status = ?, note = ?, candidates = ?, run_id = ? "
                        "WHERE scope = ? AND id = ? AND coalesce(status, 'applied') <> 'discarded' "
                        "AND (updated_at IS NULL OR updated_at <= ?)",
                        [status, note, json.dumps(list(candidates)), run_id, scope, edit_id, run_started])


def reapply_edit(db: Database, scope: str, edit_id: str, payload: dict, run_id: str | None) -> None:
    """A person re-applied a pending edit to themes they chose: new snapshot, applied, replayed last (new seq)."""
    with db.write(serial=f"codebook of {scope}") as cur:
        seq = cur.execute("SELECT coalesce(max(seq), 0) + 1 FROM codebook_edits WHERE scope = ?", [scope]).fetchone()[0]
        cur.execute("UPDATE codebook_edits SET payload = ?, seq = ?, status = 'applied', note = '', candidates = '[]', "
                    "run_id = ?, updated_at = ? WHERE scope = ? AND id = ?",
                    [json.dumps(payload), seq, run_id, utcnow(), scope, edit_id])


def discard_edit(db: Database, scope: str, edit_id: str) -> None:
    """A person discarded an edit: kept in the list as discarded, never replayed again."""
    with db.write() as cur:
        cur.execute("UPDATE codebook_edits SET status = 'discarded', updated_at = ? WHERE scope = ? AND id = ?",
                    [utcnow(), scope, edit_id])


def add_pin(db: Database, scope: str, question: str, answer: str, citations: list[dict], run_id: str | None,
            user_id: str | None) -> str:
    pin_id = new_id()
    with db.write() as cur:
        cur.execute("INSERT INTO pinned_insights VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    [pin_id, scope, question, answer, json.dumps(citations), run_id, user_id, utcnow()])
    return pin_id


def list_pins(db: Database, scope: str) -> list[dict]:
    rows = db.fetchdicts("SELECT id, question, answer, citations, run_id, user_id, created_at FROM pinned_insights "
                         "WHERE scope = ? ORDER BY created_at DESC", [scope])
    for r in rows:
        r["citations"] = json.loads(r["citations"])
    return rows


def delete_pin(db: Database, scope: str, pin_id: str) -> None:
    with db.write() as cur:
        cur.execute("DELETE FROM pinned_insights WHERE scope = ? AND id = ?", [scope, pin_id])


# ------------------------------------------------------------------------------------------- import


IMPORT_PARTICIPANT_COLUMNS = ["id", "session_id", "token", "number", "user_id", "status", "guide_version", "step",
                              "probed", "simulated", "included", "started_at", "finished_at"]
IMPORT_MESSAGE_COLUMNS = ["id", "participant_id", "seq", "role", "kind", "step", "content", "tokens", "source",
                          "created_at"]


def _frame(rows: list[tuple] | pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    return rows[columns] if isinstance(rows, pd.DataFrame) else pd.DataFrame(rows, columns=columns)


def bulk_insert_import(db: Database, participants: list[tuple] | pd.DataFrame, answers: list[tuple] | pd.DataFrame,
                       messages: list[tuple] | pd.DataFrame, imports: list[tuple] | pd.DataFrame = ()) -> None:
    """Insert imported rows (DataFrames with these columns, or tuples in their order: IMPORT_*_COLUMNS; answers:
    participant_id, field_key, value; imports: participant_id, external_id, source_row) through DataFrames, never
    row by row. bench/ loads its large sessions through here too, without `imports` (its rows come from no file).

    Parents and children go in separate transactions: DuckDB checks foreign keys against committed rows.
    """
    participants = _frame(participants, IMPORT_PARTICIPANT_COLUMNS).copy()
    participants["user_id"] = participants["user_id"].astype("string")
    imports = _frame(imports, ["participant_id", "external_id", "source_row"]).copy()
    imports["external_id"] = imports["external_id"].astype("string")
    answers = _frame(answers, ["participant_id", "field_key", "value"]).drop_duplicates(
        ["participant_id", "field_key"])
    messages = _frame(messages, IMPORT_MESSAGE_COLUMNS + (["words"] if isinstance(messages, pd.DataFrame)
                                                         and "words" in messages else [])).copy()
    if "words" not in messages:    # counted here when the caller did not (messages.words, migration 10)
        messages["words"] = messages["content"].map(word_count)
    with db.write() as cur:
        cur.register("imp_participants", participants)
        cur.execute("INSERT INTO participants (id, session_id, token, number, user_id, status, guide_version, step, "
                    "probed, simulated, included, started_at, finished_at) SELECT id, session_id, token, number, "
                    "user_id, status, guide_version, step, probed, simulated, included, started_at, finished_at "
                    "FROM imp_participants")
        cur.unregister("imp_participants")
        cur.register("imp_imports", imports)
        cur.execute("INSERT INTO participant_imports SELECT participant_id, external_id, source_row FROM imp_imports")
        cur.unregister("imp_imports")
    with db.write() as cur:
        if not answers.empty:
            cur.register("imp_answers", answers)
            cur.execute("INSERT INTO form_answers SELECT participant_id, field_key, value FROM imp_answers")
            cur.unregister("imp_answers")
        if not messages.empty:
            cur.register("imp_messages", messages)
            cur.execute("INSERT INTO messages (id, participant_id, seq, role, kind, step, content, tokens, source, "
                        "created_at, words) SELECT id, participant_id, seq, role, kind, step, content, tokens, source, "
                        "created_at, words FROM imp_messages")
            cur.unregister("imp_messages")


# ------------------------------------------------------------------------------------ model mode


def load_extractions(db: Database, hashes: list[str], model: str, prompt_version: str) -> dict[str, dict]:
    rows = fetch_in(db, "SELECT transcript_hash, claims FROM synthesis_extractions WHERE model = ? AND "
                        "prompt_version = ? AND transcript_hash IN ({values})", hashes, [model, prompt_version])
    return {h: json.loads(c) for h, c in rows}


def save_labels(db: Database, model: str, prompt_version: str, labels: dict[str, dict]) -> None:
    """Per-statement model judgements (e.g. sentiment), cached in synthesis_extractions keyed by the statement's
    content hash (participant_id is left empty: the judgement depends on the text only)."""
    save_extractions(db, model, prompt_version, [(h, "", claims) for h, claims in labels.items()])


def save_extractions(db: Database, model: str, prompt_version: str, rows: list[tuple[str, str, dict]]) -> None:
    """Many extractions at once, (transcript hash, participant id, claims) each: one transaction, via a DataFrame
    (a single-row save costs ~10-20 ms; model-mode synthesis saves hundreds)."""
    if not rows:
        return
    frame = pd.DataFrame({"transcript_hash": [r[0] for r in rows], "model": model, "prompt_version": prompt_version,
                          "participant_id": [r[1] for r in rows], "claims": [json.dumps(r[2]) for r in rows],
                          "tokens": 0, "created_at": utcnow()}).drop_duplicates("transcript_hash", keep="last")
    with db.write() as cur:
        cur.register("new_extractions", frame)
        cur.execute("DELETE FROM synthesis_extractions WHERE model = ? AND prompt_version = ? AND transcript_hash IN "
                    "(SELECT transcript_hash FROM new_extractions)", [model, prompt_version])
        cur.execute("INSERT INTO synthesis_extractions SELECT transcript_hash, model, prompt_version, participant_id, "
                    "claims, tokens, created_at FROM new_extractions")
        cur.unregister("new_extractions")

