"""Showing people's text as text: never HTML, never active Markdown (links, images, formatting).

`escape_markdown` is for places that only take Markdown (labels of expanders, captions).
"""

from __future__ import annotations

import streamlit as st

from core.text import escape_markdown  # noqa: F401  (re-exported for pages)


def show_text(text: str, container=st) -> None:
    """Render participant or user text literally.

    st.text, not escaped Markdown: Streamlit's Markdown turns bare URLs, www. addresses and emails into
    links after any escaping, and a participant's link must never appear clickable to a researcher.
    """
    container.text(text)
