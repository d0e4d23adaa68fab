"""The participant's page: welcome, pre-session form, one-question-at-a-time conversation, recap.

No account is needed (unless the session asks for signed-in participants). The participant's token is
put in the URL (`p=`), so a reload or another device resumes the same conversation.
"""

import streamlit as st

from core import conversation, generation, modes
from core.conversation import CONSENT_KEY, ChatUnavailable, FormErrors
from core.i18n import LANGUAGES, phrase
from core.permissions import AccessDenied
from core.privacy import delete_participation
from core.repos import sessions as srepo
from core.results import participant_view
from core.sessions import consent_text
from ui import nav
from ui.chat_view import render_form, show_message
from ui.resources import db
from ui.results_view import show_summary, show_themes
from ui.safe import escape_markdown, show_text
from ui.scroll import scroll_into_view
from ui.warm import preload_elements

st.set_page_config(page_title="Harmonica", page_icon=":material/forum:", layout="centered")


def unavailable(message: str) -> None:
    st.info(message)
    st.stop()


token = st.query_params.get("p")
if st.session_state.pop("deleted", False):
    unavailable("Your participation has been deleted. Thank you for your time.")
if token:
    try:
        chat = conversation.load_chat(db(), token)
    except ChatUnavailable as exc:
        unavailable(str(exc))
else:
    try:
        session = conversation.open_session(db(), st.query_params.get("s"))
    except ChatUnavailable as exc:
        unavailable(str(exc))
    user_id = None
    if not session.anonymous:
        from ui.auth import current_user

        signed_in = current_user()
        if signed_in is None:
            st.title(escape_markdown(session.name))
            st.info("This session is for signed-in participants. Please sign in, then open the link again.")
            nav.HOME.link("Sign in")
            st.stop()
        user_id = signed_in.id
    lang = session.language
    if session.language_choice:
        lang = st.selectbox("Language", list(LANGUAGES), index=list(LANGUAGES).index(session.language),
                            format_func=LANGUAGES.get, key="language")
    st.title(escape_markdown(session.name))
    st.markdown(escape_markdown(session.objective))
    st.markdown("**What happens to your words**")
    show_text(consent_text(session))  # written by the organiser: shown literally
    st.caption("Keep the address of this page once you start: it resumes your conversation.")
    if summary := generation.guide_summary(db(), session.id, session.guide_version):
        show_text(summary)  # model-written: shown literally
    st.caption(phrase(lang, "model_note" if modes.model_mode() else "offline_note"))
    if modes.model_mode() and session.redact:
        st.caption(phrase(lang, "redaction_note"))
    fields = srepo.get_form(db(), session.id)
    with st.form("pre_session"):
        form_errors = st.session_state.get("_form_errors", {})
        answers = render_form(fields, form_errors)
        consented = st.checkbox("I have read the above and agree to take part", key="consent")
        if CONSENT_KEY in form_errors:
            st.error(form_errors[CONSENT_KEY], icon=":material/error:")
        start = st.form_submit_button("Start the conversation", type="primary")
    if start:
        try:
            # model mode: the opening question is streamed below, on the next run
            participant = conversation.join(db(), session.id, answers, user_id=user_id,
                                            ask_first=not modes.model_mode(), consented=consented,
                                            language=lang)
        except FormErrors as exc:
            st.session_state["_form_errors"] = exc.errors
            st.rerun()
        except ChatUnavailable as exc:
            unavailable(str(exc))
        st.session_state.pop("_form_errors", None)
        st.query_params["p"] = participant.token
        st.rerun()
    st.stop()

# --- the conversation ---------------------------------------------------------------------------------
lang = chat.language
st.title(escape_markdown(chat.session.name))
if chat.finished:
    st.success("You have finished this conversation. Thank you!")
else:
    step, total = chat.progress
    st.progress(step / max(total, 1), text=phrase(lang, "step_of", i=step, n=total))

# In model mode, a facilitator message the offline fallback wrote says so.
facilitator = modes.facilitator(db())
for m in chat.messages:
    fallback = facilitator.source == "model" and m.role == "facilitator" and m.source == "offline"
    show_message(m, phrase(lang, "offline_fallback") if fallback else None)



def own_data_controls() -> None:
    left, right = st.columns(2)
    left.download_button("Download my transcript", conversation.transcript_text(chat),
                         file_name="my-conversation.txt", mime="text/plain")
    if right.button("Delete my participation"):
        st.session_state["confirm_delete"] = True
    if st.session_state.get("confirm_delete"):
        with st.container(border=True):
            st.warning("This deletes everything you wrote here, your form answers, and any quote of yours in "
                       "the results. It cannot be undone.")
            yes, no = st.columns(2)
            if yes.button("Delete everything", type="primary"):
                delete_participation(db(), token)
                st.query_params.clear()
                st.session_state["deleted"] = True
                st.session_state.pop("confirm_delete")
                st.rerun()
            if no.button("Cancel"):
                st.session_state.pop("confirm_delete")
                st.rerun()


if chat.finished:
    own_data_controls()
    if chat.session.visibility in ("participants", "public"):  # the organisers share results with participants
        try:
            shared = participant_view(db(), token)
        except AccessDenied:
            shared = None
        if shared is not None and shared.themes:
            st.subheader("What everyone said, so far")
            show_summary(shared)
            show_themes(shared, quotes=True, key="participant_themes")  # audience-safe: quotes only if allowed
    st.stop()
if chat.session.status == "closed":
    unavailable("This session has been closed by the organiser; your answers so far are saved.")

if chat.awaiting_reply or chat.awaiting_opening:
    # The participant's message is saved; the reply is computed now (and again after a failed attempt).
    with st.chat_message("assistant", avatar=":material/forum:"):
        placeholder = st.empty()
        placeholder.caption(phrase(lang, "thinking"))   # at once: a model can take seconds to its first word
        conversation.respond(db(), token, facilitator, on_text=placeholder.text)
    st.rerun()


def act(action, *args) -> None:
    """Run a button's action in its callback; a problem is shown above the buttons, the draft kept."""
    try:
        result = action(*args)
    except ChatUnavailable as exc:
        st.session_state["send_error"] = str(exc)
        return
    st.session_state["send_error"] = getattr(result, "error", None)
    st.session_state["send_notice"] = getattr(result, "notice", None)
    if action is send and not st.session_state["send_error"]:
        st.session_state["draft"] = ""


def send(seen_seq: int):
    return conversation.record_answer(db(), token, st.session_state.get("draft", ""), seen_seq)


def skip(seen_seq: int):
    return conversation.record_skip(db(), token, seen_seq)


def finish():
    return conversation.finish(db(), token, facilitator)


answer_area = st.container(key="answer_area")
with answer_area, st.form("answer", clear_on_submit=False, border=False):
    st.text_area("Your answer", key="draft", placeholder=phrase(lang, "placeholder"), height=110,
                 label_visibility="collapsed")
    if error := st.session_state.pop("send_error", None):
        st.error(error)
    if notice := st.session_state.pop("send_notice", None):
        st.info(notice)
    c1, c2, c3 = st.columns([2, 1, 1])
    # The buttons carry the last message shown, so a double click cannot store the answer twice.
    seen = chat.messages[-1].seq if chat.messages else 0
    c1.form_submit_button("Send", type="primary", on_click=act, args=(send, seen), width="stretch")
    c2.form_submit_button(phrase(lang, "skip"), on_click=act, args=(skip, seen), width="stretch")
    c3.form_submit_button(phrase(lang, "finish"), on_click=act, args=(finish,), width="stretch")

# In a long conversation the answer box would sit below the fold: every turn brings it back into view, the latest
# reply just above it.
scroll_into_view("answer_area", block="end")
if chat.session.visibility in ("participants", "public"):   # the themes chart shown once they finish
    preload_elements(("PlotlyChart",))

with st.expander("Your data"):
    own_data_controls()
