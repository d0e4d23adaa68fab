"""Design a session: brief, facilitation guide (versions), pre-session form, settings, sharing and lifecycle."""

import streamlit as st

from core import calllog, generation, modes, simulation
from core import sessions as service
from core.brief import Brief, parse_items
from core.config import settings
from core.facilitation.model import preview_prompt
from core.forms import FIELD_TYPES
from core.guide import validate_guide
from core.i18n import LANGUAGES
from core.llm import LLMError
from core.permissions import Permission, can
from core.repos import sessions as srepo
from core.sessions import InvalidInput, SessionSettings
from ui import cards, nav
from ui.auth import allowed_or_stop, require_user
from ui.confirm import ask_first
from ui.editors import (
    FORM_COLUMNS,
    fields_from_frame,
    fields_from_items,
    form_frame,
    guide_frame,
    steps_from_frame,
    steps_from_items,
)
from ui.forms import KeptInputs, field_error, list_errors, save_or_show
from ui.lazy import keep_values, rendered
from ui.menu import show_menu
from ui.resources import db
from ui.safe import escape_markdown
from ui.share import chat_link, qr_png
from ui.sharing import members_editor, visibility_and_links

st.set_page_config(page_title="Design · Harmonica", layout="wide")
user = require_user()
show_menu(user)

session = allowed_or_stop(lambda: service.get_for(db(), user, st.query_params.get("s", ""), Permission.EDIT))

STATUS = {"draft": "Draft: not open to participants", "launched": "Open to participants", "closed": "Closed"}
st.title(escape_markdown(session.name))
st.caption(f"{STATUS[session.status]} · guide version {session.guide_version}")
if flash := st.session_state.pop("flash", None):
    st.success(flash)


GUIDE_PROBLEM = f"guide_problem:{session.id}"   # a failed model action on the guide, shown until the next action
SOURCE_WORDS = {"model": "written by the model", "offline": "rule-based", "edit": "edited", "restore": "restored",
                "template": "from the template"}


def guide_origin(guide) -> str:
    """Where a guide version came from, its note said once: "restored version 2", not "restored (restored ...)"."""
    source, note = SOURCE_WORDS.get(guide.source, guide.source), escape_markdown(guide.note or "")
    if note.startswith(source):              # "edited", "restored version 2"
        return note
    if not note or guide.source == "template":   # a template's note only says "from template"
        return source
    return f"{source} ({note})"


def saved(message: str) -> None:
    st.session_state["flash"] = message
    st.session_state.pop(GUIDE_PROBLEM, None)
    st.rerun()


def model_failed(action: str, exc: Exception) -> None:
    """A model action that failed stays explained on the guide tab until the next action (reruns would wipe a
    one-run error)."""
    st.session_state[GUIDE_PROBLEM] = f"{action}: {exc} The guide was not changed (version {session.guide_version})."
    st.rerun()


brief_tab, guide_tab, form_tab, settings_tab, share_tab, access_tab = st.tabs(
    ["Brief", "Facilitation guide", "Pre-session form", "Settings", "Share & status", "Members & privacy"],
    key="tab", bind="query-params")  # the open tab survives saves (reruns) and can be linked to

# Only the open tab is drawn (a page load shows its first tab sooner); what is typed and not yet saved is kept
# across switches (KeptInputs, the card drafts, keep_values). The table views are kept drawn: a grid's edits
# live only in its widget.
keep_values("guide_table", "form_table", "guide_note", "sim_n")
brief = KeptInputs(f"brief:{session.id}", {"name": session.name, "objective": session.objective,
                                             "items": "\n".join(session.critical_items),
                                             "context": session.context})
choices = KeptInputs(f"settings:{session.id}", {
    "max_turns": session.max_turns, "anonymous": session.anonymous, "language": session.language,
    "language_choice": session.language_choice})
privacy = KeptInputs(f"privacy:{session.id}", {"consent": service.consent_text(session),
                                               "redact": session.redact})
guide = srepo.get_guide_version(db(), session.id, session.guide_version)
guide_draft = cards.guide_draft(session.id, session.guide_version, guide.steps if guide else [])
fields = srepo.get_form(db(), session.id)
form_draft = cards.form_draft(session.id, fields)

for _ in rendered(brief_tab, lazy=True):
    st.text_input("Name", max_chars=120, key=brief.key("name"))
    field_error("brief", "name")
    st.text_area("Objective", key=brief.key("objective"))
    field_error("brief", "objective")
    st.text_area("What is critical to gather (one per line)", key=brief.key("items"))
    field_error("brief", "critical_items")
    st.text_area("Context (optional)", key=brief.key("context"))
    field_error("brief", "context")
    brief.unsaved_note()
    if st.button("Save brief", type="primary"):
        typed = brief.values()
        save_or_show("brief", lambda: service.update_brief(db(), user, session.id, Brief(
            typed["name"], typed["objective"], parse_items(typed["items"]), typed["context"])))
        brief.reset()
        saved("Brief saved. Regenerate the guide if the critical items changed.")

for _ in rendered(guide_tab, lazy=not st.session_state.get("guide_table")):
    if guide:   # what is in use, and where it came from: stays on the page, unlike a message after an action
        st.caption(f"Version {guide.version}, {guide_origin(guide)}, {guide.created_at:%Y-%m-%d %H:%M} UTC.")
    if problem := st.session_state.get(GUIDE_PROBLEM):
        st.error(escape_markdown(problem), icon=":material/error:")   # may quote the server's answer
    st.write("Participants are asked one step at a time, in this order. A thin answer gets the step's probe once.")
    table = st.toggle("Edit as a table", key="guide_table", help="A spreadsheet view of the same guide, for "
                      "many quick edits; reorder rows there by changing their Order numbers.")
    if table:
        edited = st.data_editor(
            guide_frame(guide.steps if guide else []), num_rows="dynamic", hide_index=True, width="stretch",
            key=f"guide_{session.guide_version}",
            column_config={
                "order": st.column_config.NumberColumn("Order", min_value=1, step=1, width="small",
                                                       help="Change the numbers to reorder steps"),
                "question": st.column_config.TextColumn("Question", width="large", required=True),
                "probe": st.column_config.TextColumn("Follow-up probe", width="medium"),
                "critical_item": st.column_config.SelectboxColumn("Critical item",
                                                                  options=[""] + session.critical_items),
            },
        )
    else:
        cards.guide_cards(guide_draft, session.critical_items)
    note = st.text_input("What changed (optional)", max_chars=200, key="guide_note")
    left, right = st.columns(2)
    if left.button("Save as new version", type="primary"):
        steps = steps_from_frame(edited) if table else steps_from_items(guide_draft.items())
        version = save_or_show("guide", lambda: service.save_guide(db(), user, session.id, steps, note or "edited"))
        saved(f"Saved as version {version}.")
    if right.button("Regenerate from the brief"):
        saved(f"Generated version {service.regenerate_guide(db(), user, session.id)} from the brief.")
    list_errors("guide")
    if guide:
        for warning in validate_guide(guide.steps, session.critical_items)[1]:
            st.warning(escape_markdown(warning))   # names a critical item

    # --- model mode: generate, refine, prompt transparency (issue 3) ------------------------------------
    model = modes.client(db())
    with st.container(border=True):
        st.markdown("**With the AI model**")
        if model is None:
            st.caption("Offline mode: no model is configured, so guides come from rules and templates.")
        else:
            if st.button("Generate with the model", key="model_generate",
                         help="The model writes a new guide version from the brief."):
                with st.spinner("The model is writing the guide…"):
                    try:
                        version = generation.generate_guide_version(db(), user, session.id, model)
                    except (LLMError, InvalidInput) as exc:
                        model_failed("The model could not write a guide", exc)
                    else:
                        saved(f"The model wrote version {version}.")
            with st.form("refine_guide"):
                instruction = st.text_area("Refine in plain words", max_chars=generation.INSTRUCTION_MAX,
                                           placeholder="e.g. make it warmer; ask about budget before timeline")
                if st.form_submit_button("Refine"):
                    with st.spinner("The model is revising the guide…"):
                        try:
                            version = generation.refine_guide_version(db(), user, session.id, instruction, model)
                        except (LLMError, InvalidInput) as exc:
                            model_failed("The model could not refine the guide", exc)
                        else:
                            saved(f"Refined as version {version}.")
        if summary := generation.guide_summary(db(), session.id, session.guide_version):
            st.caption("What participants read before they start (written by the model):")
            st.text(summary)
        with st.expander("System prompt"):
            st.caption("What the model facilitator receives at the first turn (later turns add the current step "
                       "and this participant's recent messages only).")
            shared = {f.label: "(their answer)" for f in srepo.get_form(db(), session.id) if f.share_with_model}
            # st.text, not st.code: the code block's script is the heaviest the guide tab would load (0.5 s of a
            # page load in bench/page_speed.py)
            st.text(preview_prompt(session.name, session.objective, session.language, guide.steps if guide else [],
                                   shared))

    st.subheader("Versions")
    for v in srepo.list_guide_versions(db(), session.id):
        current = " (current)" if v.version == session.guide_version else ""
        with st.expander(f"Version {v.version}{current} · {escape_markdown(v.note)} · "
                         f"{v.created_at:%Y-%m-%d %H:%M} UTC"):
            for i, s in enumerate(v.steps, start=1):
                st.text(f"{i}. {s.question}" + (f"\n   probe: {s.probe}" if s.probe else "")
                        + (f"\n   covers: {s.critical_item}" if s.critical_item else ""))
            if not current and st.button("Restore this version", key=f"restore_{v.version}"):
                saved(f"Restored as version {service.restore_guide(db(), user, session.id, v.version)}.")

for _ in rendered(form_tab, lazy=not st.session_state.get("form_table")):
    st.write("Questions participants answer before the conversation. Answers become segments in the results.")
    form_table = st.toggle("Edit as a table", key="form_table", help="A spreadsheet view of the same form.")
    if form_table:
        edited_form = st.data_editor(
            form_frame(fields), num_rows="dynamic", hide_index=True, width="stretch", key="form_editor",
            column_order=[c for c in FORM_COLUMNS if c != "key"],
            column_config={
                "order": st.column_config.NumberColumn("Order", min_value=1, step=1, width="small"),
                "label": st.column_config.TextColumn("Label", width="large", required=True),
                "type": st.column_config.SelectboxColumn("Type", options=list(FIELD_TYPES), required=True,
                                                         default="short_text"),
                "required": st.column_config.CheckboxColumn("Required", default=False),
                "options": st.column_config.TextColumn("Options (separated by ;)", width="medium"),
                "min": st.column_config.NumberColumn("Min"),
                "max": st.column_config.NumberColumn("Max"),
                "share_with_model": st.column_config.CheckboxColumn("Share with AI", default=False,
                                                                    help=cards.FIELD_HELP["share_with_model"]),
                "identifying": st.column_config.CheckboxColumn("Identifying", default=False,
                                                               help=cards.FIELD_HELP["identifying"]),
            },
        )
    else:
        cards.form_cards(form_draft)
    if st.button("Save form", type="primary"):
        new_fields = fields_from_frame(edited_form) if form_table else fields_from_items(form_draft.items())
        save_or_show("form", lambda: service.save_form(db(), user, session.id, new_fields))
        saved("Form saved.")
    list_errors("form")

for _ in rendered(settings_tab, lazy=True):
    # No min/max on these inputs: the browser would refuse an out-of-range number silently and a save would store
    # the previous one under "saved"; the server's check explains the range instead.
    st.number_input("Maximum participant turns", step=1, key=choices.key("max_turns"),
                    help="The conversation closes with a recap after this many participant messages (3 to 200).")
    st.toggle("Anonymous participation (no account needed)", key=choices.key("anonymous"))
    st.selectbox("Session language", list(LANGUAGES), format_func=LANGUAGES.get, key=choices.key("language"))
    st.toggle("Let participants choose their language", key=choices.key("language_choice"),
              help="The AI facilitator then speaks their language; offline, the fixed phrases change and the "
                   "guide's questions are asked as written.")
    choices.unsaved_note()
    if st.button("Save settings", type="primary"):
        picked = choices.values()
        save_or_show("settings", lambda: service.save_settings(db(), user, session.id, SessionSettings(
            int(picked["max_turns"]), picked["anonymous"], picked["language"], picked["language_choice"])))
        choices.reset()
        saved("Settings saved.")
    list_errors("settings")

for _ in rendered(share_tab, lazy=True):
    link = chat_link(session.id)
    if session.status == "launched":
        st.write("Share this link with participants:")
        st.code(link, language=None)
        st.image(qr_png(link), caption="QR code of the link", width=220)
    else:
        st.info("Launch the session to open the link to participants." if session.status == "draft"
                else "The session is closed: the link tells participants so.")
        st.code(link, language=None)

    def change_status(status: str, done: str) -> None:
        try:
            service.set_status(db(), user, session.id, status)
        except InvalidInput as exc:
            st.error(str(exc))
        else:
            saved(done)

    actions = st.container(horizontal=True, vertical_alignment="center")   # one row, side by side
    if session.status == "launched":   # participant-visible and easy to regret: secondary, and confirmed
        if actions.button("Close", key="status_closed", help="Stop taking answers (asks first)."):
            st.session_state["closing"] = True
    elif actions.button("Launch" if session.status == "draft" else "Reopen", type="primary", key="status_launched"):
        change_status("launched", "Session launched." if session.status == "draft" else "Session reopened.")
    if actions.button("Clone", help="A new draft with this brief, guide, form and settings, without participants."):
        copy = service.clone_session(db(), user, session.id)
        nav.DESIGN.switch({"s": copy.id})
    nav.RESULTS.link(query_params={"s": session.id}, where=actions)
    if session.status == "launched":
        ask_first("closing", "Close this session?",
                  "Participants will no longer be able to answer: the link tells them the session is closed. "
                  "Everything said so far stays saved, and you can reopen the session later.",
                  yes="Close the session", no="Keep it open", key="close",
                  on_yes=lambda: change_status("closed", "Session closed."))

    # --- simulated participants (issue 3) -----------------------------------------------------------------
    st.divider()
    st.subheader("Simulated participants")
    st.caption("Test the design with made-up participants (personas written by the model in model mode, "
               "scripted ones offline). They are marked as simulated and left out of results by default.")
    st.session_state.setdefault("sim_n", 3)       # kept across tab switches (keep_values): no value= here
    sim_n = st.number_input(f"How many (1 to {simulation.MAX_SIMULATED})", step=1, key="sim_n", width=220)
    if st.button("Run simulated participants", disabled=session.status == "closed"):
        bar = st.progress(0.0, text="Starting…")
        try:
            run = simulation.run_simulation(
                db(), user, session.id, int(sim_n), model=modes.client(db()), facilitator=modes.facilitator(db()),
                on_progress=lambda i, total, _name: bar.progress(i / total, text=f"{i} of {total} done"))
        except InvalidInput as exc:
            st.error(str(exc))
        else:
            st.success(f"{len(run.participant_ids)} simulated participants finished (personas: {run.personas}, "
                       f"facilitator: {run.facilitator}).")

    if can(db(), user, Permission.DELETE, session):  # owners only: what this session's model use cost
        usage = calllog.session_usage(db(), user, session.id, calllog.load_prices(settings().prices_file))
        if not usage.empty:
            st.divider()
            st.subheader("Model use")
            st.caption(f"{int(usage['calls'].sum())} calls to the model for this session, estimated "
                       f"${float(usage['estimated_cost_usd'].sum()):,.4f} from the price table (an estimate, not a "
                       "bill).")
            st.dataframe(usage.rename(columns={"key": "purpose"}), hide_index=True, width="stretch",
                         column_config={"estimated_cost_usd": st.column_config.NumberColumn(
                             "Estimated cost (USD)", format="$%.4f")})

    st.divider()
    if can(db(), user, Permission.DELETE, session):  # owners only; editors do not see the control
        with st.expander("Delete this session"):
            st.write("This deletes the session, its guide versions, its form and every participant's answers. "
                     "It cannot be undone.")
            confirm = st.text_input("Type the session name to confirm", key="delete_confirm")
            if st.button("Delete permanently", disabled=confirm.strip() != session.name):
                service.delete_session(db(), user, session.id)
                st.session_state["flash"] = f"Deleted '{session.name}'."
                nav.HOME.switch()

for _ in rendered(access_tab, lazy=True):  # members, results visibility, public links, consent and redaction (issue 4)
    members_editor(db(), user, "session", session.id)
    st.divider()
    visibility_and_links(db(), user, session)
    st.divider()
    st.markdown("**Participant privacy**")
    st.text_area("Consent text shown before the form", height=120, key=privacy.key("consent"))
    st.toggle("Redact emails, phone numbers and declared names before any model call", key=privacy.key("redact"))
    privacy.unsaved_note()
    if st.button("Save privacy settings"):
        chosen = privacy.values()
        try:
            service.save_privacy(db(), user, session.id, chosen["consent"], chosen["redact"])
        except InvalidInput as exc:
            st.error(str(exc))
        else:
            privacy.reset()
            saved("Privacy settings saved.")
