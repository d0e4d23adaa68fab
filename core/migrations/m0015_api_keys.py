"""API keys: a user's named keys for the REST API (/api/v1), stored as a SHA-256 hash with a shown prefix."""

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
        """
