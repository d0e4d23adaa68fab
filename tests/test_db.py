import duckdb
import pytest

from core.db import Database, open_database
from core.migrations import MIGRATIONS, apply_migrations


def test_migrations_from_empty_create_schema_and_record_versions(tmp_path):
    db = Database(tmp_path / "h.duckdb")
    versions = [r[0] for r in db.fetchall("SELECT version FROM schema_migrations ORDER BY version")]
    assert versions == [m[0] for m in MIGRATIONS]
    tables = {r[0] for r in db.fetchall("SELECT table_name FROM information_schema.tables")}
    assert {"users", "sessions", "guide_versions", "form_fields", "participants", "form_answers",
            "messages"} <= tables
    db.close()


def test_migrations_are_applied_once(tmp_path):
    path = tmp_path / "h.duckdb"
    Database(path).close()
    conn = duckdb.connect(str(path))
    assert apply_migrations(conn) == []
    assert conn.execute("SELECT count(*) FROM schema_migrations").fetchone()[0] == len(MIGRATIONS)
    conn.close()


def test_failed_write_rolls_back(tmp_path):
    db = Database(tmp_path / "h.duckdb")
    with pytest.raises(duckdb.Error):
        with db.write() as cur:
            cur.execute("INSERT INTO schema_migrations VALUES (999, 'x', current_timestamp)")
            cur.execute("INSERT INTO no_such_table VALUES (1)")
    assert db.fetchone("SELECT count(*) FROM schema_migrations WHERE version = 999")[0] == 0
    db.close()


def test_foreign_keys_hold(db):
    with pytest.raises(duckdb.ConstraintException):
        with db.write() as cur:
            cur.execute("INSERT INTO form_answers VALUES ('no-such-participant', 'k', 'v')")


def test_open_database_is_shared_per_path(db_path):
    assert open_database(db_path) is open_database(str(db_path))


def test_second_process_gets_a_clear_error(db_path, db):
    import subprocess
    import sys

    code = f"from core.db import Database; Database({str(db_path)!r})"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode != 0
    assert "DatabaseLocked" in proc.stderr and "in use by another process" in proc.stderr


def test_fetch_in_sends_long_lists_chunk_by_chunk_and_keeps_every_row(tmp_path):
    from core.db import IN_CHUNK, Database, fetch_in

    db = Database(tmp_path / "chunks.duckdb")
    with db.write() as cur:
        cur.execute("CREATE TABLE t (id VARCHAR, kind VARCHAR)")
        cur.execute("INSERT INTO t SELECT 'id' || i, CASE WHEN i % 2 = 0 THEN 'even' ELSE 'odd' END "
                    "FROM range(?) r(i)", [2 * IN_CHUNK + 7])
    wanted = [f"id{i}" for i in range(2 * IN_CHUNK + 7)] + ["missing"]
    rows = fetch_in(db, "SELECT id FROM t WHERE kind = ? AND id IN ({values})", wanted, ["even"])
    assert sorted(r[0] for r in rows) == sorted(f"id{i}" for i in range(0, 2 * IN_CHUNK + 7, 2))
    assert fetch_in(db, "SELECT id FROM t WHERE id IN ({values})", []) == []
