"""Redaction before model calls becomes the default: new sessions have it on, and so do existing ones.

Decided for every existing session rather than left as it was: a session created before this release with the
toggle off sent participants' emails, phone numbers and names verbatim to the model endpoint (possibly a third
party) because nobody chose otherwise. Owners who want raw text sent switch it off per session (Design → Members &
privacy), as the README says."""

SQL = """
        ALTER TABLE sessions ALTER COLUMN redact SET DEFAULT TRUE;
        UPDATE sessions SET redact = TRUE WHERE NOT coalesce(redact, false);
        """
