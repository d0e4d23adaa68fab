"""Numbered schema migrations, recorded in `schema_migrations` (DuckDB has no PRAGMA user_version).

Each migration is a module `mNNNN_name.py` in this package with a docstring (its description) and `SQL`;
NNNN is its version. A module may also define `run(cur)`, called after its SQL in the same transaction,
for a change SQL alone cannot express (keep it rare). Add a new file for each change; never edit one that
has shipped. One file per migration lets parallel work add migrations without editing a shared list. SQL
stays portable (no DuckDB-only syntax) so a PostgreSQL backend can follow.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from typing import Any, Callable


def _discover() -> list[tuple[int, str, str]]:
    found = []
    for info in pkgutil.iter_modules(__path__):
        match = re.fullmatch(r"m(\d{4})_\w+", info.name)
        if match:
            module = importlib.import_module(f"{__name__}.{info.name}")
            found.append((int(match.group(1)), (module.__doc__ or info.name).strip().splitlines()[0], module.SQL))
            if callable(getattr(module, "run", None)):
                RUNNERS[int(match.group(1))] = module.run
    versions = [v for v, _, _ in found]
    if len(versions) != len(set(versions)):
        raise RuntimeError(f"two migrations share a version: {sorted(versions)}")
    return sorted(found)


RUNNERS: dict[int, Callable[[Any], None]] = {}  # version -> optional `run(cur)` of that migration
MIGRATIONS: list[tuple[int, str, str]] = _discover()


def apply_migrations(cur) -> list[int]:
    """Apply every migration not yet recorded; return the numbers applied."""
    cur.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        "version INTEGER PRIMARY KEY, description VARCHAR NOT NULL, applied_at TIMESTAMP NOT NULL)"
    )
    done = {row[0] for row in cur.execute("SELECT version FROM schema_migrations").fetchall()}
    applied = []
    for version, description, sql in MIGRATIONS:
        if version in done:
            continue
        if sql.strip():
            cur.execute(sql)
        if version in RUNNERS:
            RUNNERS[version](cur)
        cur.execute(
            "INSERT INTO schema_migrations VALUES (?, ?, current_timestamp)", [version, description]
        )
        applied.append(version)
    return applied
