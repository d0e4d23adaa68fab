"""Token counts a server did not report (streams from servers that ignore `stream_options.include_usage`) are
estimated by the app and marked as such, so the call log and cost say which figures are the server's."""

SQL = """
        ALTER TABLE llm_calls ADD COLUMN IF NOT EXISTS tokens_estimated BOOLEAN DEFAULT false;
        """
