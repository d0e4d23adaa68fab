"""Import a CSV of open-ended answers into a new session (core.importer does the work)."""

import streamlit as st

from core import results
from core.importer import ImportProblem, ImportSpec, import_responses, read_table
from core.text import plural
from ui import nav
from ui.auth import require_user
from ui.menu import show_menu
from ui.resources import db
from ui.safe import escape_markdown

st.set_page_config(page_title="Import answers · Harmonica", layout="wide")
user = require_user()
show_menu(user)

st.title("Import answers from a CSV file")
st.write("Bring open-ended answers exported from Qualtrics, Google Forms, Typeform or a spreadsheet into a new "
         "session, then analyse them like conversations: each text column becomes a question, each row a "
         "participant, and attribute columns become segments.")
upload = st.file_uploader("CSV file (UTF-8)", type=["csv"], key="import_file")
if upload is None:
    st.stop()
data = upload.getvalue()
try:
    frame = read_table(data)
except ImportProblem as exc:
    for message in exc.messages:
        st.error(escape_markdown(message))   # may quote the file's headers
    st.stop()
for warning in frame.attrs.get("warnings", []):
    st.warning(escape_markdown(warning))   # may quote the file's headers
st.caption(f"{len(frame):,} rows, {len(frame.columns)} columns. First rows:")
st.dataframe(frame.head(5), hide_index=True)
columns = list(frame.columns)
with st.form("import_form"):
    title = st.text_input("Session title", value=upload.name.rsplit(".", 1)[0][:120])
    text_columns = st.multiselect("Text column(s): the open-ended answers", columns)
    participant = st.selectbox("Participant id column (optional)", ["(none)"] + columns)
    attributes = st.multiselect("Attribute columns (segments, optional)", columns)
    submitted = st.form_submit_button("Import")
if submitted:
    spec = ImportSpec(title, text_columns, None if participant == "(none)" else participant, attributes)
    try:
        with st.spinner("Importing…"):
            result = import_responses(db(), user, data, spec, filename=upload.name)
    except ImportProblem as exc:
        for message in exc.messages:
            st.error(message)
    else:
        started = results.open(db(), user, result.session_id).start_synthesis(trigger="import")   # in the background
        st.success(f"Imported {plural(result.participants, 'participant')} and {plural(result.answers, 'answer')} "
                   f"({result.empty_cells:,} empty cells skipped) into a new closed session."
                   + (" The first synthesis is running in the background: the results page shows its progress."
                      if started else ""))
        nav.RESULTS.link("Open the results", icon=":material/insights:", query_params={"s": result.session_id})
