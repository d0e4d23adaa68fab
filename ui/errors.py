"""Unexpected errors on a page: a plain message with a reference for the visitor, the traceback in the server log.

Streamlit calls the run's `on_script_error` hook (the one `st.App(on_script_error=...)` sets) with any exception a
page raises; returning True replaces its own exception box. `install()` sets that hook for the current run; every
page calls it through `ui.resources.db()` before its first database use, so an exception raised by the database
(held by another process) or anything after is caught. Before that, `client.showErrorDetails = "none"` in
.streamlit/config.toml keeps Streamlit's own box free of messages and tracebacks.
"""

from __future__ import annotations

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from core.errors import report

ERROR_KEY = "harmonica-error"   # the message's container: CSS class st-key-harmonica-error (browser tests watch it)


def install() -> None:
    """Route this run's uncaught exceptions to `show` (no-op outside a Streamlit run)."""
    ctx = get_script_run_ctx()
    if ctx is not None and ctx.on_script_error is not show:
        ctx.on_script_error = show


def show(exc: Exception) -> bool:
    """Log `exc` with its traceback under a new reference and show the plain message; True: Streamlit shows nothing
    more."""
    message = report(exc, "page error")
    with st.container(key=ERROR_KEY):
        st.error(message, icon=":material/error:")
    return True
