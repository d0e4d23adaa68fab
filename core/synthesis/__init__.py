"""Synthesis: from participants' answers to themes, counts and summaries."""
