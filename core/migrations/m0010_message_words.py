"""Message word counts: stored on write, so the results page aggregates answer lengths in SQL at any size."""

from core.text import word_count

# The median answer length and "thin" answers (fewer than 8 words) of 200,000 imported answers were a regular
# expression per row on every results-page load; the count is now written with the message. Rows written by other
# means (older code, benchmarks) may leave it NULL: readers fall back to counting (core/repos/analytics.py).
SQL = """
        ALTER TABLE messages ADD COLUMN words INTEGER;
        """


def run(cur) -> None:
    """Backfill participants' messages (the only ones counted) with core.text.word_count, in one UPDATE."""
    frame = cur.execute("SELECT id, content FROM messages WHERE role = 'participant'").df()
    if frame.empty:
        return
    frame["words"] = frame["content"].map(word_count)
    cur.register("message_words", frame[["id", "words"]])
    try:
        cur.execute("UPDATE messages SET words = message_words.words FROM message_words "
                    "WHERE messages.id = message_words.id")
    finally:
        cur.unregister("message_words")
