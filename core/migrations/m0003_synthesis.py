"""Synthesis: stored runs, themes, statement assignments, embedding cache, codebook edits, pinned insights, imports.

A run's `scope` is the key its results belong to: a session id today, `project:<id>` later. `session_ids`
lists the sessions whose answers it read (JSON), so project-level synthesis reuses the same tables.
"""

SQL = """
        CREATE TABLE synthesis_runs (
            id VARCHAR PRIMARY KEY,
            scope VARCHAR NOT NULL,
            session_ids VARCHAR NOT NULL,          -- JSON list
            kind VARCHAR NOT NULL,                 -- full | incremental
            parent_run_id VARCHAR,
            status VARCHAR NOT NULL,               -- running | done | failed
            mode VARCHAR NOT NULL,                 -- offline | model
            model VARCHAR,
            prompt_version VARCHAR,
            embedder VARCHAR NOT NULL,
            params VARCHAR NOT NULL,               -- JSON
            input_hash VARCHAR NOT NULL,
            timings VARCHAR NOT NULL DEFAULT '{}', -- JSON, seconds per stage
            stats VARCHAR NOT NULL DEFAULT '{}',   -- JSON: statements, k scores, quotes dropped, ...
            summary VARCHAR NOT NULL DEFAULT '',
            model_id VARCHAR,                      -- fitted offline embedder (synthesis_models), for updates
            trigger VARCHAR NOT NULL DEFAULT 'manual',
            error VARCHAR,
            created_at TIMESTAMP NOT NULL,
            finished_at TIMESTAMP
        );
        CREATE INDEX synthesis_runs_scope ON synthesis_runs(scope);
        CREATE TABLE synthesis_themes (
            run_id VARCHAR NOT NULL,
            theme_id VARCHAR NOT NULL,
            position INTEGER NOT NULL,
            label VARCHAR NOT NULL,
            description VARCHAR NOT NULL,
            keywords VARCHAR NOT NULL,             -- JSON list
            participants INTEGER NOT NULL,
            mentions INTEGER NOT NULL,
            sentiment VARCHAR NOT NULL,            -- JSON {"positive": n, "neutral": n, "negative": n}
            quotes VARCHAR NOT NULL,               -- JSON list of statement ids, best first
            centroid BYTEA,
            origin VARCHAR NOT NULL DEFAULT 'cluster',  -- cluster | edit
            PRIMARY KEY (run_id, theme_id)
        );
        CREATE TABLE synthesis_statements (
            run_id VARCHAR NOT NULL,
            statement_id VARCHAR NOT NULL,         -- message id + ':' + start offset
            message_id VARCHAR NOT NULL,
            participant_id VARCHAR NOT NULL,
            session_id VARCHAR NOT NULL,
            step INTEGER NOT NULL,
            critical_item VARCHAR,
            question VARCHAR NOT NULL,
            start_pos INTEGER NOT NULL,
            end_pos INTEGER NOT NULL,
            text VARCHAR NOT NULL,
            content_hash VARCHAR NOT NULL,
            theme_id VARCHAR,
            score DOUBLE PRECISION NOT NULL,
            sentiment VARCHAR NOT NULL,
            PRIMARY KEY (run_id, statement_id)
        );
        CREATE TABLE synthesis_models (
            id VARCHAR PRIMARY KEY,
            embedder VARCHAR NOT NULL,
            state BYTEA NOT NULL,                   -- pickled fitted TF-IDF + LSA (our own data only)
            created_at TIMESTAMP NOT NULL
        );
        CREATE TABLE statement_embeddings (
            embedder VARCHAR NOT NULL,
            content_hash VARCHAR NOT NULL,
            vector BYTEA NOT NULL,                  -- float32 little-endian
            created_at TIMESTAMP NOT NULL,
            PRIMARY KEY (embedder, content_hash)
        );
        CREATE TABLE codebook_edits (
            id VARCHAR PRIMARY KEY,
            scope VARCHAR NOT NULL,
            seq INTEGER NOT NULL,
            op VARCHAR NOT NULL,                   -- rename | merge | split | delete | move
            payload VARCHAR NOT NULL,              -- JSON
            user_id VARCHAR,
            created_at TIMESTAMP NOT NULL
        );
        CREATE TABLE pinned_insights (
            id VARCHAR PRIMARY KEY,
            scope VARCHAR NOT NULL,
            question VARCHAR NOT NULL,
            answer VARCHAR NOT NULL,
            citations VARCHAR NOT NULL,            -- JSON list of {statement_id, message_id, text}
            run_id VARCHAR,
            user_id VARCHAR,
            created_at TIMESTAMP NOT NULL
        );
        CREATE TABLE participant_imports (
            participant_id VARCHAR PRIMARY KEY,
            external_id VARCHAR,
            source_row INTEGER NOT NULL
        );
        CREATE TABLE synthesis_extractions (
            transcript_hash VARCHAR NOT NULL,
            model VARCHAR NOT NULL,
            prompt_version VARCHAR NOT NULL,
            participant_id VARCHAR NOT NULL,
            claims VARCHAR NOT NULL,               -- JSON
            tokens INTEGER NOT NULL DEFAULT 0,
            created_at TIMESTAMP NOT NULL,
            PRIMARY KEY (transcript_hash, model, prompt_version)
        );
        """
