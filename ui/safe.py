"""Showing people's text as text: never HTML, never active Markdown (links, images, formatting)."""

from __future__ import annotations

import re

import streamlit as st

# Every ASCII punctuation character may be backslash-escaped in CommonMark; escaping them all turns
# `![x](http://…)`, `<img …>`, autolinks, emphasis and `$math$` into literal characters.
_PUNCT = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$&:=\"'/@%^;?,])")


def escape_markdown(text: str) -> str:
    escaped = _PUNCT.sub(r"\\\1", text)
    # Keep line breaks as breaks (two trailing spaces), not as paragraph joins.
    return escaped.replace("\n", "  \n")


def show_text(text: str, container=st) -> None:
    """Render participant or user text literally."""
    container.markdown(escape_markdown(text))
