"""Load the browser's Plotly code while the page is idle, so the first chart a person opens does not wait for it.

Streamlit loads each element's code on first use; Plotly's is ~4.7 MB of JavaScript that takes 0.5-1.7 s of the
browser's main thread to evaluate on a small machine (bench/page_speed.py). Importing the same module when the
browser is idle puts it in the page's module map, where Streamlit's own import finds it later; one throwaway
chart drawn off screen then does Plotly's own first-drawing set-up. Only idle time, once a page has stayed drawn
for a second: a page's placeholders last longest when this code is evaluated while the page itself is being drawn
(the Summary's Plotly chart did that).
"""

from __future__ import annotations

import functools
from pathlib import Path

import streamlit as st


@functools.cache
def _plotly_chunk() -> str | None:
    """File name of Streamlit's Plotly element module (content-hashed, so it changes with Streamlit's version)."""
    found = sorted((Path(st.__file__).parent / "static" / "static" / "js").glob("PlotlyChart.*.js"))
    return found[0].name if len(found) == 1 else None


def preload_charts() -> None:
    """Import the Plotly element's module in the browser's idle time (nothing shown; fixed text, no user input)."""
    chunk = _plotly_chunk()
    if chunk is None:   # another Streamlit build: nothing to warm, nothing breaks
        return
    st.html(
        "<script>(() => { const index = document.querySelector('script[type=module][src*=\"/static/js/index.\"]');"
        " if (!index || window.__harmonicaCharts) return; window.__harmonicaCharts = true;"
        f" const load = () => import(new URL('{chunk}', index.src).href).then(draw).catch(() => {{}});"
        # Plotly's first drawing sets itself up (~0.1 s here): done once, off screen, on a throwaway chart.
        " const draw = () => { const P = window.Plotly; if (!P) return; const div = document.createElement('div');"
        " div.style.cssText = 'position:absolute;left:-10000px;top:0;width:400px;height:200px';"
        " document.body.appendChild(div); return P.newPlot(div, [{type: 'bar', x: [1], y: ['a'], orientation: 'h'}],"
        " {}, {staticPlot: true}).finally(() => { P.purge(div); div.remove(); }); };"
        # Only once the page has stayed drawn for a second (no placeholder, no script run): never in its way, and
        # nothing spent on pages a person (or a test) only passes through.
        " const drawn = () => !document.querySelector('[data-testid=\"stSkeleton\"]') &&"
        " document.querySelector('[data-testid=\"stApp\"]')?.dataset.testScriptState === 'notRunning';"
        " let calm = 0; const timer = setInterval(() => { calm = drawn() ? calm + 1 : 0; if (calm < 4) return;"
        " clearInterval(timer);"
        " if ('requestIdleCallback' in window) requestIdleCallback(load, {timeout: 2000}); else load(); }, 250);"
        " })();</script>",
        unsafe_allow_javascript=True)
