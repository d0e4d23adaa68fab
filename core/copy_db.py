"""`python -m core copy-db SRC DST`: every row of one database copied into another, DuckDB file ↔ PostgreSQL.

Both ends are opened (and so migrated) first: they hold the same schema. The target must hold no rows, so a copy
never merges two databases. Tables are copied parents first, one bulk load each; then each table's row count and
a checksum of its rows (order-free, over every column's value) are compared on both ends.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import time
from dataclasses import dataclass
from typing import Callable

import pandas as pd

from core.db import Database
from core.repos import tables


class CopyError(RuntimeError):
    """The copy cannot start, or what arrived differs from what was sent (the message says which table)."""


@dataclass(frozen=True)
class CopyReport:
    tables: int
    rows: int
    seconds: float


def _canonical(value: object) -> str:
    """One value as text that is the same whichever engine returned it."""
    if value is None or value is pd.NaT or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return "\\N"
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).hex()
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=None).isoformat()
    if isinstance(value, float):   # an integer column holding NULLs arrives from DuckDB as floats
        return repr(int(value)) if value.is_integer() else repr(value)
    if hasattr(value, "item"):   # a numpy scalar
        return _canonical(value.item())
    return repr(value)


def checksum(frame: pd.DataFrame) -> str:
    """sha256 of the table's rows in a canonical order: equal when both ends hold the same rows."""
    rows = sorted("\x1f".join(_canonical(v) for v in row) for row in frame.itertuples(index=False, name=None))
    return hashlib.sha256("\x1e".join(rows).encode()).hexdigest()


def copy_database(source: Database, target: Database, say: Callable[[str], None] = lambda _: None) -> CopyReport:
    """Copy every row of `source` into the empty `target` and verify it; CopyError when it cannot or differs."""
    started = time.perf_counter()
    if tables.schema_version(source) != tables.schema_version(target):
        raise CopyError("The two databases are at different schema versions: open both with this version first.")
    names = tables.data_tables()
    filled = [t for t in names if tables.row_count(target, t)]
    if filled:
        raise CopyError(f"The target already holds rows (in {', '.join(filled[:5])}): copy into an empty database.")
    total = 0
    for table in names:
        frame = tables.read_table(source, table, tables.columns(source, table))
        if not frame.empty:
            tables.append_rows(target, table, frame)
        copied = tables.read_table(target, table, list(frame.columns))
        if len(copied) != len(frame) or checksum(copied) != checksum(frame):
            raise CopyError(f"Table {table}: {len(frame)} rows sent, {len(copied)} arrived, and they differ. "
                            "Empty the target and copy again.")
        total += len(frame)
        say(f"{table}: {len(frame)} rows, checksum matches")
    return CopyReport(len(names), total, time.perf_counter() - started)
