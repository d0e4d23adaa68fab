"""API requests per key in the last minute, in the database: the per-key rate limit counts across replicas."""

SQL = """
        CREATE TABLE IF NOT EXISTS api_requests (
            key_id VARCHAR NOT NULL,
            requested_at TIMESTAMP NOT NULL
        );
        CREATE INDEX IF NOT EXISTS api_requests_key ON api_requests(key_id, requested_at);
        """
