"""What differs between the two SQL engines, said once: the repositories ask `db.dialect` for these few pieces.

Everything else is SQL both DuckDB and PostgreSQL accept (the tests run the repositories on both). Placeholders,
bulk loads, DataFrames of results and serialised writes (`db.write(serial=...)`) are handled by the PostgreSQL
backend itself (core/postgres.py).
"""

from __future__ import annotations

from dataclasses import dataclass

# A word: letters, digits or underscores (core.text.word_count counts the same in Python).
DUCKDB_WORD = r"[\p{L}\p{N}_]+"
POSTGRES_WORD = r"[[:alnum:]_]+"


@dataclass(frozen=True)
class Dialect:
    name: str

    def word_count(self, text: str) -> str:
        """SQL counting the words of the text expression `text`."""
        if self.name == "duckdb":
            return f"len(regexp_extract_all({text}, '{DUCKDB_WORD}'))"
        return f"(SELECT count(*) FROM regexp_matches({text}, '{POSTGRES_WORD}', 'g'))"

    def hash_sum(self, value: str) -> str:
        """SQL summing a 64-bit hash of `value` over the rows: a cheap digest of a set of ids."""
        return f"sum(hash({value}))" if self.name == "duckdb" else f"sum(hashtextextended({value}, 0))"


    def answers_sha256(self, ident: str, content: str) -> str:
        """SQL aggregate: the hex sha256 of a `?` parameter followed by "<ident>\\0<content>\\1" for every row in
        `ident` order (core.synthesis.pipeline hashes the same bytes). PostgreSQL text cannot hold a NUL: bytes."""
        if self.name == "duckdb":
            return (f"sha256(? || coalesce(string_agg({ident} || chr(0) || {content} || chr(1), '' "
                    f"ORDER BY {ident}), ''))")
        return (f"encode(sha256(convert_to(?, 'UTF8') || coalesce(string_agg(convert_to({ident}, 'UTF8') "
                f"|| '\\x00'::bytea || convert_to({content}, 'UTF8') || '\\x01'::bytea, ''::bytea ORDER BY {ident}), "
                "''::bytea)), 'hex')")


DUCKDB = Dialect("duckdb")
POSTGRES = Dialect("postgresql")
