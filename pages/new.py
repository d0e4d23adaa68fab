"""Create a session from a blank brief or a template."""

import streamlit as st

from core import generation, modes
from core.brief import Brief, parse_items
from core.i18n import LANGUAGES
from core.llm import LLMError
from core.sessions import InvalidInput, SessionSettings, create_session
from core.templates import load_templates
from ui import nav
from ui.auth import require_user
from ui.forms import field_error, save_or_show
from ui.menu import show_menu
from ui.resources import db

st.set_page_config(page_title="New session · Harmonica", layout="wide")
user = require_user()
show_menu(user)

st.title("New session")
templates = load_templates()
choice = st.selectbox(
    "Start from", ["blank"] + list(templates),
    format_func=lambda k: "Blank brief" if k == "blank" else f"Template: {templates[k].name}",
)
template = templates.get(choice)
if template:
    st.caption(template.description)
base = template.brief if template else Brief("", "", [], "")

# Keyed by the template so switching templates refills the fields.
with st.form(f"brief_{choice}"):
    name = st.text_input("Name", value=base.name, max_chars=120)
    field_error("brief", "name")
    objective = st.text_area("Objective", value=base.objective, help="What should this session achieve?")
    field_error("brief", "objective")
    items = st.text_area("What is critical to gather (one item per line)", value="\n".join(base.critical_items))
    field_error("brief", "critical_items")
    context = st.text_area("Context (optional)", value=base.context)
    field_error("brief", "context")
    language = st.selectbox("Session language", list(LANGUAGES), format_func=LANGUAGES.get)
    submitted = st.form_submit_button("Create draft", type="primary")

if submitted:
    brief = Brief(name, objective, parse_items(items), context)
    session = save_or_show("brief", lambda: create_session(db(), user, brief,
                                                           template_key=template.key if template else None,
                                                           settings=SessionSettings(language=language)))
    if (model := modes.client(db())) is not None and not generation.from_template(db(), session):
        # Model mode: the model writes the first guide (a template's own guide is kept as written);
        # the rule-based version 1 stays if the model fails.
        with st.spinner("The model is writing the facilitation guide…"):
            try:
                version = generation.generate_guide_version(db(), user, session.id, model)
                st.session_state["flash"] = f"The model wrote the guide (version {version})."
            except (LLMError, InvalidInput) as exc:
                st.session_state["flash"] = f"Using the rule-based guide: the model could not write one ({exc})."
    nav.DESIGN.switch({"s": session.id})
