"""Whole tables, for moving a database between engines (core.copy_db): the migrations' tables in the order they
were created (a table's foreign keys only point at tables created before it), and their rows as DataFrames."""

from __future__ import annotations

import re

import pandas as pd

from core.db import Database, sql_identifier
from core.migrations import MIGRATIONS

_CREATE = re.compile(r"CREATE TABLE (?:IF NOT EXISTS )?(\w+)", re.IGNORECASE)


def data_tables() -> list[str]:
    """Every table the migrations create, parents before children (the migrations' own record excluded)."""
    return [name for _, _, sql in MIGRATIONS for name in _CREATE.findall(sql)]


def columns(db: Database, table: str) -> list[str]:
    return [r[0] for r in db.fetchall("SELECT column_name FROM information_schema.columns WHERE table_name = ? "
                                      "AND table_schema = current_schema() ORDER BY ordinal_position", [table])]


def row_count(db: Database, table: str) -> int:
    return db.fetchone(f"SELECT count(*) FROM {sql_identifier(table)}")[0]


def read_table(db: Database, table: str, names: list[str]) -> pd.DataFrame:
    return db.fetchdf(f"SELECT {', '.join(map(sql_identifier, names))} FROM {sql_identifier(table)}")


def append_rows(db: Database, table: str, frame: pd.DataFrame) -> None:
    """Insert every row of `frame` (its columns named as the table's) in one transaction, as a bulk load."""
    names = ", ".join(map(sql_identifier, frame.columns))
    with db.write() as cur:
        cur.register("copied_rows", frame)
        cur.execute(f"INSERT INTO {sql_identifier(table)} ({names}) SELECT {names} FROM copied_rows")
        cur.unregister("copied_rows")


def schema_version(db: Database) -> int:
    return db.fetchone("SELECT coalesce(max(version), 0) FROM schema_migrations")[0]
