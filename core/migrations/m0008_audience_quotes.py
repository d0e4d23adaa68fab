"""What participants and the public may quote: verbatim quotes only when the owner allows them, from themes of k+.

Participants (visibility "participants") and public-link visitors see an audience-safe view of the results
(core/audience.py). `audience_quotes` is the owner's explicit permission to show participants' verbatim words
there (off by default, and for every existing session); `audience_min_people` is k: even then, a quote is shown
only from a theme raised by at least k distinct participants (default 3, never below 2).
"""

SQL = """
        ALTER TABLE sessions ADD COLUMN audience_quotes BOOLEAN DEFAULT FALSE;
        ALTER TABLE sessions ADD COLUMN audience_min_people INTEGER DEFAULT 3;
        """
