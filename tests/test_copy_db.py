"""`python -m core copy-db`: a seeded database goes DuckDB → PostgreSQL → DuckDB and comes back row for row."""

from __future__ import annotations

from core import cli
from core.accounts import register
from core.copy_db import checksum
from core.db import Database, open_database
from core.demo import seed_demo
from core.repos import tables


def _fingerprint(db) -> dict[str, tuple[int, str]]:
    out = {}
    for table in tables.data_tables():
        frame = tables.read_table(db, table, tables.columns(db, table))
        out[table] = (len(frame), checksum(frame))
    return out


def test_a_demo_database_survives_the_round_trip_through_postgresql(tmp_path, pg_cluster, capsys):
    source = Database(tmp_path / "source.duckdb")
    seed_demo(source, participants=6)
    before = _fingerprint(source)
    source.close()
    url = pg_cluster.new_database().replace("harmonica@", "harmonica:secret-pw@")   # trust auth ignores it

    assert cli.main(["copy-db", str(tmp_path / "source.duckdb"), url]) == 0
    assert cli.main(["copy-db", url, str(tmp_path / "back.duckdb")]) == 0
    printed = capsys.readouterr().out
    assert "secret-pw" not in printed and "harmonica:***@" in printed

    assert _fingerprint(open_database(url)) == before
    assert _fingerprint(open_database(tmp_path / "back.duckdb")) == before
    assert before["messages"][0] > 50 and before["synthesis_themes"][0] > 0   # the copy carried real content


def test_copying_into_a_database_that_holds_rows_is_refused(tmp_path, pg_cluster, capsys):
    source = Database(tmp_path / "source.duckdb")
    register(source, "alice", "alice@example.org", "Alice", "correct horse", "correct horse")
    source.close()
    url = pg_cluster.new_database()
    assert cli.main(["copy-db", str(tmp_path / "source.duckdb"), url]) == 0
    assert cli.main(["copy-db", str(tmp_path / "source.duckdb"), url]) == 1
    assert "already holds rows" in capsys.readouterr().err
