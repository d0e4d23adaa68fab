"""Model mode: the call log, form fields shareable with the model, and model-written guide summaries."""

# llm_calls has no foreign keys on purpose: usage and cost history must outlive a deleted session.
SQL = """
        CREATE TABLE llm_calls (
            id VARCHAR PRIMARY KEY,
            created_at TIMESTAMP NOT NULL,
            session_id VARCHAR,                   -- NULL for calls outside a session (test connection)
            participant_id VARCHAR,
            purpose VARCHAR NOT NULL,             -- facilitation.turn | generation.guide | ...
            model VARCHAR NOT NULL,
            endpoint_host VARCHAR NOT NULL,       -- host[:port] only, never a key or a full URL
            prompt_version VARCHAR,
            input_tokens INTEGER,
            output_tokens INTEGER,
            latency_ms INTEGER NOT NULL,
            outcome VARCHAR NOT NULL,             -- ok | cancelled | timeout | rate_limit | server_error | ...
            error VARCHAR,                        -- a message fit for people, already redacted
            attempt INTEGER NOT NULL DEFAULT 1
        );
        CREATE INDEX llm_calls_session ON llm_calls(session_id);
        ALTER TABLE form_fields ADD COLUMN share_with_model BOOLEAN DEFAULT FALSE;
        CREATE TABLE guide_summaries (
            session_id VARCHAR NOT NULL,
            version INTEGER NOT NULL,
            summary VARCHAR NOT NULL,             -- participant-facing: what the conversation covers
            PRIMARY KEY (session_id, version)
        );
        """
