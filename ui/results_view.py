"""Summary and theme blocks shared by the results page, public links and the participant's closing page."""

from __future__ import annotations

import streamlit as st

from core.results import SynthesisView
from core.text import escape_markdown
from ui.charts import theme_bar
from ui.safe import show_text


def show_summary(view: SynthesisView) -> None:
    """The run's summary, line by line, as plain text (it quotes participants)."""
    for line in view.run.summary.splitlines():
        show_text("• " + line[2:] if line.startswith("- ") else line)


def show_themes(view: SynthesisView, *, quotes: bool, key: str) -> None:
    """The chart and each theme's description, with its pseudonymous quotes when `quotes`."""
    st.plotly_chart(theme_bar(view.themes, view.analysed), width="stretch", key=key)
    st.caption(f"Shares are of the {view.analysed} participant(s) who answered. Counts describe this sample only.")
    for theme in view.themes:
        with st.expander(f"{escape_markdown(theme.label)} — {theme.participants} participants "
                         f"({theme.share:.0f}%)"):
            show_text(theme.description)
            for q in theme.quotes if quotes else []:
                st.caption(escape_markdown(q.participant))   # may name a session (project synthesis)
                show_text(f"“{q.text}”")
