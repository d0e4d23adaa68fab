"""Results of one session: overview, themes with quotes, segments, coverage, sentiment, summary, ask the data,
codebook, participants and transcripts, exports. Thin: every number comes from core.results."""

import streamlit as st

from core import results
from core.permissions import AccessDenied
from core.results import COVERAGE_GRID_MAX, LAZY_TABS_ABOVE, QuoteView, SynthesisView
from core.text import plural, ref_label
from ui import nav
from ui.auth import allowed_or_stop, require_user
from ui.charts import (
    coverage_bar,
    coverage_heatmap,
    segment_heatmap,
    sentiment_bar,
)
from ui.chat_view import show_message
from ui.lazy import keep_values, rendered
from ui.menu import show_menu
from ui.resources import db
from ui.results_view import (
    run_header,
    run_mode,
    show_codebook_edit,
    show_completion,
    show_segment_findings,
    show_summary,
    show_themes,
)
from ui.safe import escape_markdown, show_text
from ui.scroll import scroll_into_view

CODEBOOK_EDITS = {"rename": "Rename a theme", "merge": "Merge themes", "split": "Split a theme",
                  "delete": "Delete a theme", "move": "Move a statement to another theme"}

st.set_page_config(page_title="Results · Harmonica", layout="wide")
user = require_user()
show_menu(user)

session_id = st.query_params.get("s", "")
opened = allowed_or_stop(lambda: results.open(db(), user, session_id))   # the one access check of this run
session, caps = opened.session, opened.capabilities
st.title(f"Results: {escape_markdown(session.name)}")
nav.DESIGN.link("Design this session", query_params={"s": session_id})


@st.fragment(run_every=2)
def synthesis_running(opened: results.SessionResults) -> None:
    """A synthesis runs in the background: its progress, polled every 2 s; the whole page reruns when it ends."""
    state = opened.synthesis_progress()
    if state is None or not state.running:
        st.rerun()
    st.progress(state.fraction, text=f"Synthesis running ({state.trigger}): {state.message}. The results below are "
                                     "the latest finished run; they update when it is done.")


view = opened.synthesis_view(st.session_state.get("run_choice"))
running = opened.synthesis_progress()
# This and `earlier` below are always drawn, filled or not: a fragment's id is its place on the page, so an
# element that came and went above the tabs (a run starting or ending) would give every theme's fragment a new id,
# and a click made in one just then would be dropped as coming from a fragment that no longer exists.
with st.container():
    if running is not None and running.running:
        synthesis_running(opened)
    elif running is not None and running.error:
        st.error(f"The last synthesis did not finish. {running.error}")
head = st.columns([3, 1])
with head[0]:
    if view is None:
        st.info("No synthesis yet. It runs by itself when participants finish, or run it now.")
    else:
        run = view.run
        state = ("up to date" if view.up_to_date else
                 "out of date: answers changed since this run (it refreshes by itself, or re-run now)")
        run_header(view, label="synthesis run", stale="Not up to date with the latest answers.",
                   details=[run.embedder, f"{run.created_at:%Y-%m-%d %H:%M} UTC", f"trigger: {run.trigger}", state])
with head[1]:
    mode = run_mode(view, key="rerun_mode")
    if st.button("Re-run synthesis", key="rerun", icon=":material/refresh:",
                 disabled=not caps["write"] or (running is not None and running.running),
                 help=None if caps["write"] else "Editors and owners re-run the synthesis everyone sees."):
        if opened.start_synthesis(mode=mode):   # in the background: the page never waits for it
            st.session_state.pop("run_choice", None)
        st.rerun()
earlier = st.container()
if view is not None and len(view.runs) > 1:
    with earlier, st.expander("Earlier runs"):
        done = [r for r in view.runs if r.status == "done"]
        labels = {r.id: f"{r.created_at:%Y-%m-%d %H:%M:%S} · {r.kind} · {plural(r.stats.get('themes', 0), 'theme')} · "
                        f"{r.trigger}" for r in done}
        choice = st.selectbox("Show run", list(labels), format_func=labels.get, key="run_pick")
        if st.button("Show this run", key="show_run"):
            st.session_state["run_choice"] = choice
            st.rerun()
        failed = [r for r in view.runs if r.status == "failed"]
        for r in failed[:3]:
            st.caption(f"Failed run {r.created_at:%Y-%m-%d %H:%M} (what went wrong is in the server log).")

ov = opened.overview()
c1, c2, c3, c4, c5 = st.columns(5)
c1.metric("Participants started", ov.started)
c2.metric("Completed", ov.finished - ov.ended_early, help="Answered or skipped every step of the guide.")
c3.metric("Ended early", ov.ended_early, help="Finished before the last step (the Finish button or the turn "
                                              "limit); what they said is analysed like everyone's.")
c4.metric("Included", ov.included)
c5.metric("Median answer length", f"{ov.median_answer_words:.0f} words")

PARTICIPANT_COLUMNS = {
    "participant": "Participant", "status": "Status", "simulated": "Simulated", "included": "In analysis",
    "started_at": st.column_config.DatetimeColumn("Started (UTC)", format="YYYY-MM-DD HH:mm"),
    "finished_at": st.column_config.DatetimeColumn("Finished (UTC)", format="YYYY-MM-DD HH:mm"),
    "messages": st.column_config.NumberColumn("Answers", help="Messages the participant sent"),
    "last_activity": st.column_config.DatetimeColumn("Last activity (UTC)", format="YYYY-MM-DD HH:mm"),
}


def open_quote(quote: QuoteView) -> None:
    """A quote's "Open in transcript": the Participants tab on that participant, the quoted message marked (the
    address says so too, so the view can be shared or reloaded)."""
    st.query_params["p"] = quote.participant_id
    st.query_params["m"] = quote.message_id
    st.session_state["tab"] = "Participants"


@st.fragment
def run_details(view: SynthesisView) -> None:
    """How the shown run was made, drawn only while its expander is open."""
    with st.expander("How this run was made", key="run_details", on_change="rerun") as box:
        if not box.open:
            return
        run, stats = view.run, view.run.stats
        st.json({"run": run.id, "kind": run.kind, "mode": run.mode, "embedder": run.embedder,
                 "embedder note": stats.get("embedder_note"), "params": run.params, "input hash": run.input_hash,
                 "timings (s)": run.timings, "k choice": stats.get("k_reason"),
                 "quotes dropped": stats.get("quotes_dropped"), "edits applied": stats.get("edits_applied"),
                 "edits not applied": stats.get("edits_skipped"), "model": stats.get("model_label"),
                 "model use": stats.get("model_use"), "model calls": stats.get("model_calls")})


tabs = st.tabs(["Summary", "Themes", "By segment", "Coverage", "Sentiment", "Ask the data", "Codebook",
                "Participants", "Export"], key="tab", bind="query-params")  # kept across reruns, linkable
lazy = ov.started > LAZY_TABS_ABOVE   # computes only the open tab
keep_values("theme_sort", "segment_field")   # what a researcher chose stays when they come back to the tab

for _ in rendered(tabs[0], lazy):
    if view is not None:
        show_summary(view)
        run_details(view)
    st.subheader("Completion by step")
    show_completion(ov)

for _ in rendered(tabs[1], lazy):
    if view is None or not view.themes:
        st.info("No themes yet: they appear once participants have answered.")
    else:
        sort_by = st.radio("Sort by", ["participants", "mentions"], horizontal=True, key="theme_sort",
                           format_func=lambda s: "People" if s == "participants" else "Mentions")
        show_themes(view, quotes=True, key="themes_chart", sort_by=sort_by, lazy=True, mentions=True,
                    open_quote=open_quote)

for _ in rendered(tabs[2], lazy):
    fields = opened.segment_fields()
    if view is None or not view.themes:
        st.info("Segments appear with the themes.")
    elif not fields:
        st.info("This session has no pre-session form fields to segment by.")
    else:
        key = st.selectbox("Segment by", list(fields), format_func=fields.get, key="segment_field")
        table = opened.segments(view, key)
        st.plotly_chart(segment_heatmap(table), width="stretch", key="segment_chart")
        show_segment_findings(table)
        if table.small:
            st.caption(f"Small groups (fewer than 5 participants), shown but uncertain: "
                       f"{', '.join(escape_markdown(g) for g in table.small)}.")
        st.caption(table.caveat)

for _ in rendered(tabs[3], lazy):
    if ov.included > COVERAGE_GRID_MAX:   # too many for a column each: how many participants per status
        counts = opened.coverage_counts()
        if counts.empty:
            st.info("No critical items yet.")
        else:
            st.plotly_chart(coverage_bar(counts), width="stretch", key="coverage_chart")
            st.caption(f"For each critical item, how many of the {ov.included:,} included participants answered it, "
                       "answered thinly (fewer than 8 words), skipped it, or never reached it.")
    else:
        matrix = opened.coverage()
        if matrix.empty or matrix.shape[1] == 0:
            st.info("No critical items or no participants yet.")
        else:
            st.plotly_chart(coverage_heatmap(matrix), width="stretch", key="coverage_chart")
            st.caption("For each critical item: answered, thin (fewer than 8 words), skipped, or not reached.")

for _ in rendered(tabs[4], lazy):
    if view is None or not view.themes:
        st.info("Sentiment appears with the themes.")
    else:
        st.plotly_chart(sentiment_bar(view.themes), width="stretch", key="sentiment_chart")
        source = view.run.stats.get("sentiment", "lexicon")
        if source == "model":
            st.caption("Sentiment judged by the model, per statement (positive, neutral or negative).")
        elif source == "model+lexicon":
            judged = plural(view.run.stats.get("sentiment_model", 0), "statement")
            st.caption(f"Sentiment judged by the model for {judged}; the word list (offline) for the "
                       f"{view.run.stats.get('sentiment_lexicon', 0)} it did not label.")
        else:
            st.caption("Offline sentiment is a word list with negation, per statement: coarse, and shown as such.")

for _ in rendered(tabs[5], lazy):
    if view is None:
        st.info("Ask questions once a synthesis exists.")
    else:
        with st.form("ask_form"):
            question = st.text_input("Ask the data", placeholder="What do people say about onboarding?", key="ask_q")
            asked = st.form_submit_button("Ask", key="ask_go")
        if asked and question.strip():
            st.session_state["last_answer"] = opened.ask(view, question)
        answer = st.session_state.get("last_answer")
        if answer is not None:
            show_text(answer.answer)
            for c in answer.citations:
                st.markdown(f"**{ref_label(c.ref).capitalize()}** "
                            + (f"· {escape_markdown(c.theme_label)}" if c.theme_label else ""))
                show_text(f"“{c.text}”")
            if answer.citations and caps["write"] and st.button("Pin as insight", key="pin"):
                opened.pin_insight(answer, view.run.id)
                st.toast("Pinned.")
        pins = opened.pinned_insights()
        if pins:
            st.subheader("Pinned insights")
        for pin in pins:
            with st.container(border=True):
                st.markdown(f"**Q:** {escape_markdown(pin['question'])}")
                show_text(pin["answer"])
                for c in pin["citations"]:
                    show_text(f"{c['ref']} “{c['text']}”")
                if caps["write"] and st.button("Unpin", key=f"unpin_{pin['id']}"):
                    opened.unpin_insight(pin["id"])
                    st.rerun()

for _ in rendered(tabs[6], lazy):
    if view is None or not view.themes:
        st.info("The codebook appears with the themes.")
    else:
        labels = {t.theme_id: f"{t.label} ({t.mentions})" for t in view.themes}   # keyed by theme id, never label
        edits = opened.codebook_edits()
        pending = [e for e in edits if e.status == "pending"]
        if pending:
            st.warning(f"{len(pending)} of your edits no longer fit the themes after a re-synthesis. They are kept "
                       "below as pending: re-apply each to the theme you choose, or discard it.",
                       icon=":material/pending_actions:")
        if not caps["edit"]:
            st.caption("Editors and owners can rename, merge, split and delete themes.")
        op = st.selectbox("Edit", list(CODEBOOK_EDITS), format_func=CODEBOOK_EDITS.get, key="cb_op")
        with st.form("codebook_form"):
            args = {}
            if op in ("rename", "split", "delete"):
                args["theme_id"] = st.selectbox("Theme", list(labels), format_func=labels.get, key="cb_theme")
            if op == "rename":
                args["label"] = st.text_input("New name", max_chars=120, key="cb_label")
            if op == "merge":
                args["theme_ids"] = st.multiselect("Themes to merge", list(labels), format_func=labels.get,
                                                   key="cb_merge")
                args["label"] = st.text_input("Name of the merged theme (optional)", max_chars=120,
                                              key="cb_merge_label") or None
            if op == "split":
                args["parts"] = st.number_input("Into how many", 2, 5, 2, key="cb_parts")
            if op == "move":
                assigned = view.statements.dropna(subset=["theme_id"]).head(2000)
                texts = dict(zip(assigned["statement_id"], assigned["text"]))
                sid = st.selectbox("Statement (type to search)", list(texts), format_func=lambda s: texts[s][:90],
                                   key="cb_statement")
                args["statement_id"] = sid
                args["to_theme_id"] = st.selectbox("Move to", list(labels), format_func=labels.get, key="cb_move_to")
            submitted = st.form_submit_button("Apply", disabled=not caps["edit"], key="cb_apply")
        if submitted:
            try:
                _, why = opened.edit_codebook(op, **args)
            except AccessDenied as exc:
                st.error(str(exc))
            else:
                if why:
                    st.error(why)
                else:
                    st.session_state.pop("run_choice", None)
                    st.session_state.pop("cb_outcome", None)
                    st.rerun()
        if edits:
            st.subheader("Your edits")
            st.caption("Edits are kept and replayed after every re-synthesis, matched to the new themes by the "
                       "statements they hold. One that no longer fits stays here as pending until you re-apply or "
                       "discard it; a re-synthesis never discards an edit.")
            outcome = st.session_state.get("cb_outcome")   # kept until the next action (reruns clear flashes)
            if outcome:
                (st.error if outcome[0] == "error" else st.success)(outcome[1])
            for e in edits:
                action = show_codebook_edit(e, labels, caps["edit"])
                if action is None:
                    continue
                try:
                    if action[0] == "reapply":
                        _, why = opened.reapply_codebook_edit(e.id, action[1])
                        done = f"Re-applied edit #{e.seq}."
                    else:
                        why = opened.discard_codebook_edit(e.id)
                        done = f"Discarded edit #{e.seq}."
                except AccessDenied as exc:
                    why = str(exc)
                st.session_state["cb_outcome"] = ("error", why) if why else ("done", done)
                if not why:
                    st.session_state.pop("run_choice", None)
                st.rerun()
        st.subheader("Themes")
        for t in view.themes:
            parts = [f"**{escape_markdown(t.label)}**", plural(t.participants, "participant"),
                     plural(t.mentions, "mention"), escape_markdown(", ".join(t.keywords[:5]))]
            st.markdown(" · ".join(p for p in parts if p))

for _ in rendered(tabs[7], lazy):
    wanted = st.query_params.get("p")
    if wanted and st.session_state.get("participants_for") != wanted:   # a quote's link: open the page holding them
        st.session_state["participants_for"] = wanted
        found = opened.participant_page_of(wanted)
        if found is not None:
            st.session_state["participants_page"] = found + 1
        st.session_state["transcript_pick_wanted"] = True
    page = opened.participants_page(st.session_state.get("participants_page", 1) - 1)
    if page.total == 0:
        st.info("No participants yet.")
    else:
        if page.pages > 1:   # one page of the table at a time: the page stays the same size at any session size
            st.session_state["participants_page"] = page.page + 1
            st.number_input(f"Page (of {page.pages:,})", min_value=1, max_value=page.pages, key="participants_page")
        st.caption(f"Participants {page.first:,}–{page.last:,} of {page.total:,}")
        st.dataframe(page.rows.drop(columns=["id", "number"]), hide_index=True, width="stretch",
                     column_config=PARTICIPANT_COLUMNS)
        options = page.rows[["id", "participant", "status"]].to_dict("records")
        if not caps["transcripts"]:
            st.info("Transcripts are visible to the session's editors and owners.")
        else:
            ids = [o["id"] for o in options]
            index = ids.index(wanted) if wanted in ids else 0
            if st.session_state.pop("transcript_pick_wanted", False) and wanted in ids:
                # the picker shows the quoted participant, not the last one picked
                st.session_state[f"transcript_pick_{page.page}"] = options[index]
            chosen = st.selectbox("Transcript of", options, index=index, key=f"transcript_pick_{page.page}",
                                  format_func=lambda r: f"{r['participant']} ({r['status']})")
            row = page.rows.set_index("id").loc[chosen["id"]]
            included = st.toggle("Include in analysis", value=bool(row["included"]), key=f"incl_{chosen['id']}",
                                  disabled=not caps["edit"])
            if included != bool(row["included"]):
                opened.set_included(chosen["id"], included)
                st.rerun()
            highlight = st.query_params.get("m")
            for m in opened.transcript(chosen["id"]):
                if m.id == highlight:
                    with st.container(border=True, key="quoted_message"):
                        st.caption("Quoted message")
                        show_message(m)
                    scroll_into_view("quoted_message")
                else:
                    show_message(m)

for _ in rendered(tabs[8], lazy):
    from core.export import FORMATS, export_session
    from core.formats import export_filename

    if not caps["export"]:
        st.info("Exports are available to the session's editors and owners.")
        st.stop()

    fmt = st.selectbox("Format", list(FORMATS), format_func=lambda f: FORMATS[f].label, key="export_fmt")
    raw = FORMATS[fmt].extension == "csv" and st.checkbox(
        "Cells exactly as typed", key="export_raw",
        help="By default a cell that starts with =, +, - or @ gets a leading ' so that Excel, LibreOffice or Google "
             "Sheets show it as text instead of running it as a formula. Tick this only for tools that read the "
             "file as data.")
    if st.button("Prepare export", key="export_go"):
        try:
            data = export_session(db(), user, session_id, fmt, raw_cells=raw)
        except AccessDenied as exc:
            st.error(str(exc))
        else:
            st.download_button("Download", data, file_name=export_filename(session.name, fmt),
                               mime=FORMATS[fmt].mime, key="export_dl")
