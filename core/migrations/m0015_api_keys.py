"""API keys: a user's named keys for the REST API (/api/v1), stored as a SHA-256 hash with a shown prefix; and the
participants that API clients run, under the client's own name for them."""

SQL = """
        CREATE TABLE IF NOT EXISTS api_keys (
            id VARCHAR PRIMARY KEY,
            user_id VARCHAR NOT NULL,             -- the key acts as this user, with exactly their rights
            name VARCHAR NOT NULL,
            key_prefix VARCHAR NOT NULL,          -- "hm_live_" + the first 4 hex: enough to tell keys apart
            key_hash VARCHAR NOT NULL UNIQUE,     -- sha256 of the whole key; the key itself is shown once
            created_at TIMESTAMP NOT NULL,
            last_used_at TIMESTAMP,
            revoked_at TIMESTAMP
        );
        CREATE TABLE IF NOT EXISTS client_participants (
            session_id VARCHAR NOT NULL,
            client_id VARCHAR NOT NULL,           -- "api:<key's user id>:<the client's participant_id>"
            participant_id VARCHAR NOT NULL,
            PRIMARY KEY (session_id, client_id)
        );
        """
