"""Access: projects, memberships and invitations, results visibility and public links, consent, audit log."""

# DuckDB cannot add a foreign key with ALTER TABLE, so sessions.project_id is checked by the repositories.
SQL = """
        CREATE TABLE projects (
            id VARCHAR PRIMARY KEY,
            title VARCHAR NOT NULL,
            description VARCHAR NOT NULL DEFAULT '',
            created_by VARCHAR NOT NULL,
            created_at TIMESTAMP NOT NULL
        );
        ALTER TABLE sessions ADD COLUMN project_id VARCHAR;
        ALTER TABLE sessions ADD COLUMN visibility VARCHAR DEFAULT 'editors';
        ALTER TABLE sessions ADD COLUMN consent_text VARCHAR DEFAULT '';
        ALTER TABLE sessions ADD COLUMN redact BOOLEAN DEFAULT FALSE;
        CREATE TABLE memberships (
            resource_type VARCHAR NOT NULL,       -- session | project
            resource_id VARCHAR NOT NULL,
            user_id VARCHAR NOT NULL,
            role VARCHAR NOT NULL,                -- owner | editor | viewer
            added_at TIMESTAMP NOT NULL,
            PRIMARY KEY (resource_type, resource_id, user_id)
        );
        CREATE INDEX memberships_user ON memberships(user_id);
        INSERT INTO memberships SELECT 'session', id, owner_id, 'owner', created_at FROM sessions;
        CREATE TABLE invitations (
            id VARCHAR PRIMARY KEY,
            resource_type VARCHAR NOT NULL,
            resource_id VARCHAR NOT NULL,
            invitee VARCHAR NOT NULL,             -- lower-cased username or email
            role VARCHAR NOT NULL,
            invited_by VARCHAR NOT NULL,
            status VARCHAR NOT NULL,              -- pending | accepted | declined | revoked
            created_at TIMESTAMP NOT NULL,
            answered_at TIMESTAMP
        );
        CREATE TABLE public_links (
            token VARCHAR PRIMARY KEY,
            session_id VARCHAR NOT NULL REFERENCES sessions(id),
            sections VARCHAR NOT NULL,            -- JSON list: summary, themes, quotes, transcripts
            created_by VARCHAR NOT NULL,
            created_at TIMESTAMP NOT NULL,
            revoked_at TIMESTAMP
        );
        ALTER TABLE participants ADD COLUMN consented_at TIMESTAMP;
        ALTER TABLE form_fields ADD COLUMN identifying BOOLEAN DEFAULT FALSE;
        CREATE TABLE audit_log (
            id VARCHAR PRIMARY KEY,
            created_at TIMESTAMP NOT NULL,
            actor_id VARCHAR,                     -- NULL for the command line / system
            action VARCHAR NOT NULL,
            resource_type VARCHAR NOT NULL,
            resource_id VARCHAR NOT NULL,
            detail VARCHAR NOT NULL DEFAULT '{}'  -- JSON
        );
        CREATE TABLE app_settings (
            key VARCHAR PRIMARY KEY,
            value VARCHAR NOT NULL
        );
        CREATE TABLE login_failures (
            username VARCHAR PRIMARY KEY,
            failures INTEGER NOT NULL,
            last_at TIMESTAMP NOT NULL
        );
        """
