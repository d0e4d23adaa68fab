"""Project synthesis: the same synthesis across the project's sessions (themes across sessions, with a session
breakdown). Thin: access and every number come from core.results."""

import streamlit as st

from core.permissions import AccessDenied
from core.results import ProjectSynthesisError, project_view, run_project_synthesis
from ui import nav
from ui.auth import allowed_or_stop, require_user
from ui.charts import session_share_heatmap
from ui.menu import show_menu
from ui.resources import db
from ui.results_view import run_header, run_mode, show_summary, show_themes
from ui.safe import escape_markdown, show_text

st.set_page_config(page_title="Project synthesis · Harmonica", layout="wide")
user = require_user()
show_menu(user)

project_id = st.query_params.get("p", "")
pv = allowed_or_stop(lambda: project_view(db(), user, project_id), nav.PROJECTS, "Back to projects")

st.title(f"Project synthesis: {escape_markdown(pv.project.title)}")
nav.PROJECTS.link("Back to the project", icon=nav.PROJECTS.icon, query_params={"p": pv.project.id})

st.subheader("Sessions included")
for s in pv.sessions:
    show_text(f"• {s.name}")
if not pv.sessions:
    st.info("No session of this project has results you may see.")
if pv.hidden:
    st.caption(f"{pv.hidden} more session(s) of this project are not included: their results are not open to you.")

view = pv.view
head = st.columns([3, 1])
with head[0]:
    if view is None:
        if pv.sessions:
            st.info("No project synthesis over these sessions yet. " +
                    ("Run it now." if pv.can_write else "An editor or owner of these sessions runs it."))
    else:
        run = view.run
        run_header(view, label="project run", stale="Not up to date with the latest answers: run it again.",
                   details=[f"{run.created_at:%Y-%m-%d %H:%M} UTC",
                            f"{view.analysed} participant(s) across {len(run.session_ids)} session(s)"])
with head[1]:
    mode = run_mode(view, key="project_mode")
    if st.button("Run project synthesis", key="project_run", icon=":material/refresh:",
                 disabled=not (pv.sessions and pv.can_write),
                 help=None if pv.can_write else "Editors and owners run the synthesis the project's members see."):
        try:
            with st.status("Synthesising across sessions…", expanded=True) as status:
                bar = st.progress(0.0)

                def progress(fraction: float, message: str) -> None:
                    bar.progress(min(max(fraction, 0.0), 1.0), text=message)

                outcome = run_project_synthesis(db(), user, pv.project.id, mode=mode, progress=progress)
                status.update(label=f"Synthesis done ({outcome.kind}, {outcome.stats.get('themes', 0)} themes)",
                              state="complete", expanded=False)
        except (AccessDenied, ProjectSynthesisError) as exc:
            st.error(str(exc))
        else:
            st.rerun()

if view is not None:
    st.subheader("Summary")
    show_summary(view)
    st.subheader("Themes across sessions")
    if not view.themes:
        st.info("No themes yet: they appear once participants have answered.")
    else:
        show_themes(view, quotes=True, key="project_themes_chart")
        st.subheader("Themes by session")
        sessions = [(s.id, s.name) for s in pv.sessions]
        st.plotly_chart(session_share_heatmap(view.themes, sessions, pv.session_sizes), width="stretch",
                        key="project_sessions_chart")
        st.caption("Share of each session's analysed participants raising the theme (distinct participants in "
                   "brackets). Counts describe this sample only.")
