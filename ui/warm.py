"""Load the browser's code for Streamlit's elements while a page is idle, so the next page and the first chart a
person opens do not wait for it.

Streamlit loads each element type's code on its first use in a page (a lazily loaded module): a page that draws a
type this browser has never loaded fetches and compiles it while its placeholders show. Plotly's is ~4.7 MB of
JavaScript that takes 0.5-1.7 s of the browser's main thread to evaluate on a small machine (bench/page_speed.py).
Importing the modules when the browser is idle puts them in the page's module map, where Streamlit's own import finds
them later, and in the browser's cache for the next page; one throwaway chart drawn off screen then does Plotly's
own first-drawing set-up. Only idle time, once a page has stayed drawn for a second: a page's placeholders last
longest when this code is evaluated while the page itself is being drawn (the Summary's Plotly chart did that).
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

import streamlit as st

_SCRIPT = Path(__file__).with_name("warm.js")

# The element types Harmonica's pages draw, by the name of Streamlit's module for each.
ELEMENTS = ("PageLink", "Button", "StreamlitMarkdown", "Html", "Metric", "Selectbox", "Radio", "TextInput", "TextArea",
            "NumberInput", "Checkbox", "Multiselect", "DownloadButton", "Progress", "Table", "DataFrame", "PlotlyChart")


@functools.cache
def element_modules(names: tuple[str, ...] = ELEMENTS) -> tuple[str, ...]:
    """File names of Streamlit's modules for `names` (content-hashed, so they change with Streamlit's version)."""
    js = Path(st.__file__).parent / "static" / "static" / "js"
    found = (sorted(js.glob(f"{name}.*.js")) for name in names)
    return tuple(match[0].name for match in found if len(match) == 1)   # another build: warm what it has


def preload_elements(names: tuple[str, ...] = ELEMENTS) -> None:
    """Import the modules of these element types in the browser's idle time (nothing shown; fixed text)."""
    modules = element_modules(names)
    if not modules:   # another Streamlit build: nothing to warm, nothing breaks
        return
    st.html(_script(modules), unsafe_allow_javascript=True)


@functools.cache
def _script(modules: tuple[str, ...]) -> str:
    return "<script>" + _SCRIPT.read_text(encoding="utf-8").replace("__MODULES__", json.dumps(modules)) + "</script>"
