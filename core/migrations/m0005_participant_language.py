"""Participant language: a session may let each participant choose the conversation's language."""

SQL = """
        ALTER TABLE sessions ADD COLUMN language_choice BOOLEAN DEFAULT FALSE;
        ALTER TABLE participants ADD COLUMN language VARCHAR;   -- NULL: the session's language
        """
