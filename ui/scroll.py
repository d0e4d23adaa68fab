"""Bring one element into view once the page has drawn it (a quote's message in a long transcript)."""

from __future__ import annotations

import re

import streamlit as st

_KEY = re.compile(r"[A-Za-z0-9_-]+")


def scroll_into_view(container_key: str, block: str = "center") -> None:
    """Scroll the `st.container(key=container_key)` into view ("center", or "end": at the bottom of the screen).
    The script is fixed text with the key only (checked to be a plain name): no user or participant text reaches
    it."""
    if not _KEY.fullmatch(container_key) or block not in ("center", "end", "start", "nearest"):
        raise ValueError(f"not a plain container key or scroll position: {container_key!r}, {block!r}")
    st.html(
        "<script>(() => { let tries = 0; const timer = setInterval(() => {"
        f" const el = window.document.querySelector('.st-key-{container_key}');"
        " if (el || ++tries > 50) { clearInterval(timer); if (el) el.scrollIntoView({block: '" + block + "'}); }"
        " }, 100); })();</script>",
        unsafe_allow_javascript=True)
