"""Small builders shared by tests."""

from core.brief import Brief
from core.forms import FormField
from core.sessions import SessionSettings, create_session, save_form, set_status

BRIEF = Brief("Team retro", "Learn what to change in the next sprint", ["What went well", "What hurt", "One change"])


def launched_session(db, owner, *, form: list[FormField] | None = None, max_turns: int = 30, language: str = "en"):
    session = create_session(db, owner, BRIEF, settings=SessionSettings(max_turns=max_turns, language=language))
    if form is not None:
        save_form(db, owner, session.id, form)
    return set_status(db, owner, session.id, "launched")


LONG = "We shipped the billing feature on time and pairing across teams made the reviews much faster overall."


def grant(db, owner, resource_type: str, resource_id: str, member, role: str) -> None:
    """Give `member` a role the way people do: the owner invites, the member presents the invitation's code."""
    from core.sharing import claim_invitation, invite

    issued = invite(db, owner, resource_type, resource_id, member.username, role)
    claim_invitation(db, member, issued.code)


def database_before(path, version: int):
    """A raw DuckDB connection to a new file migrated up to (not including) `version`, as an older release left it
    (migrations run as SQL only, as they were written then)."""
    import duckdb

    from core.migrations import MIGRATIONS

    conn = duckdb.connect(str(path))
    conn.execute("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, description VARCHAR NOT NULL, "
                 "applied_at TIMESTAMP NOT NULL)")
    for number, description, sql in MIGRATIONS:
        if number < version:
            conn.execute(sql)
            conn.execute("INSERT INTO schema_migrations VALUES (?, ?, current_timestamp)", [number, description])
    return conn
