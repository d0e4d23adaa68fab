"""Foundation: users, sessions, guide versions, forms, participants, messages."""

# No table references users(id) by foreign key: DuckDB turns an UPDATE of a row's indexed columns
# (username, email) into delete + insert and rejects it while any foreign key points at the row, so an
# account could never be renamed or erased. The repositories keep those references consistent.
SQL = """
        CREATE TABLE users (
            id VARCHAR PRIMARY KEY,
            username VARCHAR NOT NULL UNIQUE,
            email VARCHAR NOT NULL UNIQUE,
            name VARCHAR NOT NULL,
            password_hash VARCHAR NOT NULL,
            is_admin BOOLEAN NOT NULL DEFAULT FALSE,
            disabled BOOLEAN NOT NULL DEFAULT FALSE,
            created_at TIMESTAMP NOT NULL
        );
        CREATE TABLE sessions (
            id VARCHAR PRIMARY KEY,
            owner_id VARCHAR NOT NULL,            -- the creator (no FK: see below)
            name VARCHAR NOT NULL,
            objective VARCHAR NOT NULL,
            critical_items VARCHAR NOT NULL,      -- JSON list of strings
            context VARCHAR NOT NULL DEFAULT '',
            template_key VARCHAR,
            status VARCHAR NOT NULL,              -- draft | launched | closed
            language VARCHAR NOT NULL DEFAULT 'en',
            max_turns INTEGER NOT NULL DEFAULT 30,
            anonymous BOOLEAN NOT NULL DEFAULT TRUE,
            guide_version INTEGER,                -- the version participants get
            created_at TIMESTAMP NOT NULL,
            updated_at TIMESTAMP NOT NULL
        );
        CREATE TABLE guide_versions (
            session_id VARCHAR NOT NULL REFERENCES sessions(id),
            version INTEGER NOT NULL,
            steps VARCHAR NOT NULL,               -- JSON list of steps
            note VARCHAR NOT NULL DEFAULT '',
            source VARCHAR NOT NULL,              -- offline | model | edit | restore
            created_at TIMESTAMP NOT NULL,
            PRIMARY KEY (session_id, version)
        );
        CREATE TABLE form_fields (
            session_id VARCHAR NOT NULL REFERENCES sessions(id),
            position INTEGER NOT NULL,
            key VARCHAR NOT NULL,
            label VARCHAR NOT NULL,
            type VARCHAR NOT NULL,
            required BOOLEAN NOT NULL DEFAULT FALSE,
            options VARCHAR NOT NULL DEFAULT '[]',   -- JSON list for choice fields
            min_value DOUBLE PRECISION,
            max_value DOUBLE PRECISION,
            PRIMARY KEY (session_id, key)
        );
        CREATE TABLE participants (
            id VARCHAR PRIMARY KEY,
            session_id VARCHAR NOT NULL REFERENCES sessions(id),
            token VARCHAR NOT NULL UNIQUE,
            number INTEGER NOT NULL,              -- "Participant 7"
            user_id VARCHAR,                      -- signed-in participants only (no FK: see below)
            status VARCHAR NOT NULL,              -- chatting | finished
            guide_version INTEGER NOT NULL,
            step INTEGER NOT NULL DEFAULT 0,      -- index of the current guide step
            probed BOOLEAN NOT NULL DEFAULT FALSE,
            simulated BOOLEAN NOT NULL DEFAULT FALSE,
            included BOOLEAN NOT NULL DEFAULT TRUE,
            started_at TIMESTAMP NOT NULL,
            finished_at TIMESTAMP
        );
        CREATE INDEX participants_session ON participants(session_id);
        CREATE TABLE form_answers (
            participant_id VARCHAR NOT NULL REFERENCES participants(id),
            field_key VARCHAR NOT NULL,
            value VARCHAR NOT NULL,               -- text; JSON list for multiple choice
            PRIMARY KEY (participant_id, field_key)
        );
        CREATE TABLE messages (
            id VARCHAR PRIMARY KEY,
            participant_id VARCHAR NOT NULL REFERENCES participants(id),
            seq INTEGER NOT NULL,
            role VARCHAR NOT NULL,                -- facilitator | participant
            kind VARCHAR NOT NULL,                -- question | probe | answer | skip | recap
            step INTEGER NOT NULL,
            content VARCHAR NOT NULL,
            tokens INTEGER NOT NULL,
            source VARCHAR NOT NULL DEFAULT 'offline',  -- what produced a facilitator message
            created_at TIMESTAMP NOT NULL,
            UNIQUE (participant_id, seq)
        );
        """
