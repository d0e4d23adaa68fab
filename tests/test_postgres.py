"""The PostgreSQL backend: what it adapts (placeholders, bulk loads), that migrations build the same schema as on
DuckDB, and the guarantees that must hold across processes (two pools stand for two replicas)."""

from __future__ import annotations

import datetime as dt
import threading
import time

import pandas as pd
import psycopg
import pytest

from core.db import Database
from core.postgres import PostgresDatabase, to_psycopg
from core.repos import participants as prepo
from tests.helpers import launched_session


@pytest.fixture
def pg(pg_cluster):
    db = PostgresDatabase(pg_cluster.new_database(), pool_size=3)
    yield db
    db.close()


def test_placeholders_become_psycopgs_and_literals_stay_as_written():
    assert to_psycopg("SELECT ? FROM t WHERE a = '?' AND b LIKE 'x%' AND c = ?") == \
        "SELECT %s FROM t WHERE a = '?' AND b LIKE 'x%' AND c = %s"
    assert to_psycopg("SELECT 5 % ?, 'it''s ?'") == "SELECT 5 %% %s, 'it''s ?'"


def test_a_registered_frame_reads_back_as_the_same_values(pg):
    when = dt.datetime(2026, 12, 1, 9, 30, 15, 123456)
    frame = pd.DataFrame({"id": ["a", "b"], "n": [1, 2], "x": [0.5, float("nan")], "flag": [True, False],
                          "at": [when, pd.NaT], "blob": [b"\x00\x01", None], "note": ["50% 'quoted' ?", None]})
    with pg.write() as cur:
        cur.execute("CREATE TABLE t (id TEXT, n BIGINT, x DOUBLE PRECISION, flag BOOLEAN, at TIMESTAMP, blob BYTEA, "
                    "note TEXT)")
        cur.register("incoming", frame)
        cur.execute("INSERT INTO t SELECT * FROM incoming")
        cur.unregister("incoming")
    rows = pg.fetchall("SELECT id, n, x, flag, at, blob, note FROM t ORDER BY id")
    assert rows == [("a", 1, 0.5, True, when, b"\x00\x01", "50% 'quoted' ?"), ("b", 2, None, False, None, None, None)]


def test_migrations_build_the_same_tables_and_columns_on_both(pg, tmp_path):
    def columns(db) -> set[tuple[str, str]]:
        return set(db.fetchall("SELECT table_name, column_name FROM information_schema.columns "
                               "WHERE table_schema = current_schema()"))

    duck = Database(tmp_path / "h.duckdb")
    assert columns(pg) == columns(duck)
    assert pg.fetchall("SELECT version FROM schema_migrations ORDER BY 1") == \
        duck.fetchall("SELECT version FROM schema_migrations ORDER BY 1")
    duck.close()


def test_exclusive_is_held_against_every_other_connection(pg, pg_cluster):
    other = psycopg.connect(pg.url, autocommit=True)
    try_lock = "SELECT pg_try_advisory_lock(hashtextextended(%s, 0))"
    with pg.exclusive("synthesis of s1"):
        assert other.execute(try_lock, ["synthesis of s1"]).fetchone() == (False,)
        assert other.execute(try_lock, ["synthesis of s2"]).fetchone() == (True,)   # another session's is free
    assert other.execute(try_lock, ["synthesis of s1"]).fetchone() == (True,)
    other.close()


def test_two_replicas_answering_the_same_turn_store_one_answer(pg, creator_on):
    """Replica 1 is mid-append (the conversation's write serialised, its answer written, not committed) when replica 2
    appends after the same message: replica 2 waits, then sees the conversation moved on (StaleConversation), not
    a duplicate-key error."""
    _, participant = creator_on(pg)
    replica2 = PostgresDatabase(pg.url, pool_size=1)
    outcome: list[BaseException | None] = []

    def answer_on_replica2() -> None:
        try:
            prepo.append_message(replica2, participant.id, "participant", "answer", 0, "second tab", after_seq=1)
            outcome.append(None)
        except BaseException as exc:  # noqa: BLE001 - the test inspects it
            outcome.append(exc)

    with pg.write(serial=f"conversation {participant.id}") as cur:
        cur.execute("INSERT INTO messages (id, participant_id, seq, role, kind, step, content, tokens, source, "
                    "created_at, words) VALUES ('m-first', ?, 2, 'participant', 'answer', 0, 'first tab', 2, "
                    "'offline', now(), 2)", [participant.id])
        thread = threading.Thread(target=answer_on_replica2)
        thread.start()
        _until_a_backend_waits_for_a_lock(pg.url)
    thread.join(timeout=30)
    assert len(outcome) == 1 and isinstance(outcome[0], prepo.StaleConversation), outcome
    assert [m.content for m in prepo.list_messages(pg, participant.id)][1:] == ["first tab"]
    replica2.close()


def _until_a_backend_waits_for_a_lock(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as watcher:
        for _ in range(1000):
            if watcher.execute("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'").fetchone()[0]:
                return
            time.sleep(0.01)
    raise AssertionError("replica 2 never waited for the conversation")


@pytest.fixture
def creator_on():
    from core.accounts import register
    from core.conversation import join

    def make(db):
        user = register(db, "alice", "alice@example.org", "Alice", "correct horse", "correct horse")
        session = launched_session(db, user)
        return session, join(db, session.id)

    return make


def test_failed_sign_ins_on_two_replicas_at_once_all_count(pg):
    from core.repos.login_failures import add_login_failure, login_failures

    replica2 = PostgresDatabase(pg.url, pool_size=2)
    go = threading.Barrier(2)

    def fail_ten_times(db) -> None:
        go.wait()
        for _ in range(10):
            add_login_failure(db, "alice")

    threads = [threading.Thread(target=fail_ten_times, args=(db,)) for db in (pg, replica2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert login_failures(pg)["alice"][0] == 20
    replica2.close()


def test_snapshots_say_that_postgresql_is_backed_up_by_its_own_tools(pg, monkeypatch, capsys):
    from core import backup, cli, config

    monkeypatch.setenv("HARMONICA_DB", pg.url)
    config.settings.cache_clear()
    try:
        assert cli.main(["backup"]) == 1 and cli.main(["restore", "any.duckdb"]) == 1
    finally:
        config.settings.cache_clear()
    assert capsys.readouterr().err.count("pg_dump") == 2
    assert not backup.applies_to(pg) and not backup.applies_to(pg.url)
