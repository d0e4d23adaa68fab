"""Projects (workspaces): list and create; one project's sessions and members."""

import streamlit as st

from core import projects
from core.permissions import AccessDenied, ProjectPermission
from core.projects import ProjectError
from core.sessions import list_for
from core.text import plural
from ui import nav
from ui.auth import allowed_or_stop, require_user
from ui.confirm import ask_first
from ui.menu import show_menu
from ui.resources import db
from ui.safe import escape_markdown
from ui.sharing import members_editor

st.set_page_config(page_title="Projects · Harmonica", layout="wide")
user = require_user()
show_menu(user)
if flash := st.session_state.pop("flash", None):
    st.success(flash)

project_id = st.query_params.get("p")
if not project_id:
    st.title("Projects")
    st.write("A project groups sessions; its members' roles apply to every session in it, including later ones.")
    mine = projects.my_projects(db(), user)
    for project, role in mine:
        cols = st.columns([4, 1, 1], vertical_alignment="center")
        cols[0].text(project.title)
        cols[1].text(role)
        nav.PROJECTS.link("Open", query_params={"p": project.id}, where=cols[2])
    if not mine:
        st.info("No projects yet.")
    with st.form("new_project", clear_on_submit=True):
        st.subheader("New project")
        title = st.text_input("Title", max_chars=120)
        description = st.text_area("Description (optional)")
        if st.form_submit_button("Create project", type="primary"):
            try:
                created = projects.create_project(db(), user, title, description)
            except ProjectError as exc:
                st.error(str(exc))
            else:
                nav.PROJECTS.switch({"p": created.id})
    st.stop()

project = allowed_or_stop(lambda: projects.get_project(db(), user, project_id), nav.PROJECTS,
                          "Back to projects")

st.title(escape_markdown(project.title))
if project.description:
    st.text(project.description)
session_ids = set(projects.project_session_ids(db(), user, project.id))
visible = list_for(db(), user)

nav.PROJECT_RESULTS.link(query_params={"p": project.id})
st.subheader("Sessions")
for s in [r for r in visible if r["id"] in session_ids]:
    cols = st.columns([4, 1, 1, 1], vertical_alignment="center")
    cols[0].text(s["name"])
    nav.RESULTS.link(query_params={"s": s["id"]}, where=cols[1])
    nav.DESIGN.link(query_params={"s": s["id"]}, where=cols[2])
    if cols[3].button("Remove", key=f"rm_{s['id']}"):
        try:
            projects.remove_session(db(), user, project.id, s["id"])
        except (AccessDenied, ProjectError) as exc:
            st.error(str(exc))
        else:
            st.rerun()
hidden = len(session_ids - {r["id"] for r in visible})
if hidden:
    st.caption(f"{plural(hidden, 'more session')} in this project whose results are not visible to you.")
addable = [r for r in visible if r["id"] not in session_ids and r["role"] == "owner"]
if addable:
    with st.form("add_session"):
        choice = st.selectbox("Add one of your sessions", addable, format_func=lambda r: r["name"])
        if st.form_submit_button("Add to project"):
            try:
                projects.add_session(db(), user, project.id, choice["id"])
            except (AccessDenied, ProjectError) as exc:
                st.error(str(exc))
            else:
                st.rerun()

st.subheader("Members")
members_editor(db(), user, "project", project.id)

try:
    projects.get_project(db(), user, project.id, ProjectPermission.EDIT)
except AccessDenied:
    pass
else:
    with st.expander("Edit project"):
        with st.form("edit_project"):
            title = st.text_input("Title", value=project.title, max_chars=120)
            description = st.text_area("Description", value=project.description)
            if st.form_submit_button("Save"):
                try:
                    projects.update_project(db(), user, project.id, title, description)
                except ProjectError as exc:
                    st.error(str(exc))
                else:
                    st.rerun()


def delete() -> None:
    try:
        projects.delete_project(db(), user, project.id)
    except AccessDenied as exc:
        st.error(str(exc))
    else:
        st.session_state["flash"] = f"Project “{escape_markdown(project.title)}” deleted; its sessions are kept."
        nav.PROJECTS.switch()


try:
    projects.get_project(db(), user, project.id, ProjectPermission.DELETE)
except AccessDenied:
    pass
else:
    if st.button("Delete project", icon=":material/delete:", key="delete_project"):
        st.session_state["deleting_project"] = True
    ask_first("deleting_project", "Delete this project?",
              "The project, its members and its open invitations go. Its sessions stay, with everything said in "
              "them and their own members; they are no longer grouped. This cannot be undone.",
              yes="Delete the project", no="Keep it", key="delete_project", on_yes=delete)
