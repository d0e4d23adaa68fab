"""Read-only results behind a public link (`/public?t=…`): only the sections the owner chose, pseudonymous."""

import streamlit as st

from core.permissions import AccessDenied
from core.results import public_view
from ui.chat_view import show_message
from ui.resources import db
from ui.results_view import show_summary, show_themes
from ui.safe import escape_markdown

st.set_page_config(page_title="Results · Harmonica", layout="wide")

try:
    shared = public_view(db(), st.query_params.get("t"))
except AccessDenied as exc:
    st.info(str(exc))
    st.stop()
view, session, sections = shared.view, shared.session, shared.sections

st.title(escape_markdown(session.name))
st.caption("Shared read-only by the organisers. Participants are shown by number only.")
if shared.withheld:
    st.caption("Participants' own words are not shown here: the organisers have not allowed quotes for this link.")
if view is None and not shared.transcripts:
    st.info("No results yet.")
    st.stop()
if "summary" in sections and view:
    st.subheader("Summary")
    show_summary(view)
if "themes" in sections and view and view.themes:
    st.subheader("Themes")
    show_themes(view, quotes="quotes" in sections, key="public_themes")
elif "quotes" in sections and view:
    st.subheader("Quotes")
    for theme in view.themes:
        for q in theme.quotes:
            st.caption(f"{q.participant} · {escape_markdown(theme.label)}")
            st.text(f"“{q.text}”")
if shared.transcripts:
    st.subheader("Transcripts")
    for number, chat in shared.transcripts:
        with st.expander(f"Participant {number}"):
            for m in chat:
                show_message(m)
