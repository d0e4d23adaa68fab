"""Results of one session: participation, first themes chart and summary, participants, transcripts."""

import streamlit as st

from core.permissions import AccessDenied
from core.results import session_results, set_included, transcript
from ui.auth import require_user
from ui.charts import theme_bar
from ui.chat_view import show_message
from ui.menu import show_menu
from ui.resources import db
from ui.safe import show_text

st.set_page_config(page_title="Results · Harmonica", layout="wide")
user = require_user()
show_menu(user)

session_id = st.query_params.get("s", "")
try:
    results = session_results(db(), user, session_id)
except AccessDenied as exc:
    st.error(str(exc))
    st.page_link("Home.py", label="Back to your sessions")
    st.stop()

st.title(f"Results: {results.session.name}")
st.page_link("pages/design.py", label="Design this session", query_params={"s": session_id})
c1, c2, c3 = st.columns(3)
c1.metric("Participants started", results.started)
c2.metric("Finished", results.finished)
c3.metric("Included in analysis", results.included)

st.subheader("Summary")
st.write(results.summary)

st.subheader("Themes")
if results.themes:
    st.plotly_chart(theme_bar(results.themes, results.included), width="stretch", key="themes_chart")
    st.caption("Counts describe this sample of participants only. Themes here are key phrases counted per "
               "distinct participant (offline).")
    for theme in results.themes:
        with st.expander(f"{theme.label} — {theme.participants} participants, {theme.mentions} mentions"):
            for quote in theme.quotes:
                number = results.participants.set_index("id").loc[quote["participant_id"], "number"]
                st.caption(f"Participant {number}")
                show_text(quote["text"])
else:
    st.info("No themes yet: they appear once several participants have answered.")

st.subheader("Participants")
table = results.participants.drop(columns=["id", "number"])
st.dataframe(table, hide_index=True, width="stretch")

st.subheader("Transcripts")
options = results.participants[["id", "participant", "status"]].to_dict("records")
if options:
    chosen = st.selectbox("Participant", options, format_func=lambda r: f"{r['participant']} ({r['status']})")
    row = results.participants.set_index("id").loc[chosen["id"]]
    included = st.toggle("Include in analysis", value=bool(row["included"]), key=f"incl_{chosen['id']}")
    if included != bool(row["included"]):
        set_included(db(), user, session_id, chosen["id"], included)
        st.rerun()
    for m in transcript(db(), user, session_id, chosen["id"]):
        show_message(m)
else:
    st.info("No participants yet.")
