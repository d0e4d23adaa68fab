"""Summary and theme blocks shared by the results page, public links and the participant's closing page."""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from core.results import EditView, Overview, QuoteView, SynthesisView, ThemeView
from core.synthesis.segments import SegmentTable, finding
from core.text import escape_markdown, plural, readable_refs, ref_label
from ui.charts import theme_bar, theme_order
from ui.safe import show_text


def show_summary(view: SynthesisView) -> None:
    """The run's summary, line by line, as plain text (it quotes participants)."""
    for line in readable_refs(view.run.summary).splitlines():
        show_text("• " + line[2:] if line.startswith("- ") else line)


def run_header(view: SynthesisView, *, label: str, details: list[str], stale: str) -> None:
    """Which run is shown ("Showing <label> <id> · kind · model or mode · `details`…") and whether it is up to date
    with every included answer (`stale`: what to say when it is not)."""
    run = view.run
    st.caption(" · ".join([f"Showing {label} {run.id}", run.kind, run.stats.get("model_label") or run.mode, *details]))
    if view.up_to_date:
        st.success("Up to date with every included answer.", icon=":material/check_circle:")
    else:
        st.warning(stale, icon=":material/update:")


def run_mode(view: SynthesisView | None, *, key: str) -> str:
    """The mode of the next run ("offline" or "model"), preset to the shown run's."""
    return st.selectbox("Mode", ["offline", "model"], key=key,
                        index=1 if view is not None and view.run.mode == "model" else 0,
                        help="Model mode needs a configured model endpoint; without one the run is offline.")


def show_themes(view: SynthesisView, *, quotes: bool, key: str, sort_by: str = "participants", lazy: bool = False,
                mentions: bool = False, open_quote: Callable[[QuoteView], None] | None = None) -> None:
    """The themes chart (chart key `key`) and one expander per theme, largest first by `sort_by`: its description and
    how solid it is, with its pseudonymous quotes and sub-themes when `quotes`. `lazy`: a theme's quotes are drawn
    only while it is open. `open_quote`: each quote gets an "Open in transcript" button that calls it with the quote,
    then the whole page runs again. `mentions`: titles count mentions too."""
    st.plotly_chart(theme_bar(view.themes, view.analysed, sort_by), width="stretch", key=key)
    st.caption(f"Shares are of the {plural(view.analysed, 'included participant')} who answered. Counts describe "
               "this sample only. Themes group similar statements and are named in participants' own words; solid or "
               "tentative says whether re-running on samples of the statements finds them again.")
    for theme in theme_order(view.themes, sort_by):
        _theme(theme, quotes, lazy, mentions, open_quote)


# With lazy, expanders made with on_change="rerun" know whether they are open, so what is inside runs only when it is:
# a closed theme costs its title, not its quotes and buttons (the results page's Themes tab sent ~260 elements; now
# ~40). Each is a fragment, so opening one runs only that theme.
@st.fragment
def _theme(theme: ThemeView, quotes: bool, lazy: bool, mentions: bool,
           open_quote: Callable[[QuoteView], None] | None) -> None:
    """One theme: its description and how solid it is; its quotes and sub-themes (while it is open, when lazy)."""
    if st.session_state.pop("quote_opened", False):   # "Open in transcript" clicked in this fragment: the whole page
        st.rerun()
    tracked = {"key": f"theme_{theme.theme_id}", "on_change": "rerun"} if lazy else {}
    with st.expander(theme_title(theme, mentions=mentions), **tracked) as box:
        show_text(theme.description)
        show_stability(theme)
        if lazy and not box.open:
            return
        for i, q in enumerate(theme.quotes if quotes else []):
            st.markdown(f"**{ref_label(q.ref).capitalize()}** · {escape_markdown(q.participant)}")  # may name a session
            show_text(f"“{q.text}”")
            if open_quote is not None:
                st.button("Open in transcript", icon=":material/forum:", key=f"quote_{theme.theme_id}_{i}",
                          on_click=_open_quote, args=(open_quote, q), type="tertiary")
        show_subthemes(theme, quotes=quotes)


def _open_quote(open_quote: Callable[[QuoteView], None], quote: QuoteView) -> None:
    open_quote(quote)
    st.session_state["quote_opened"] = True   # clicked inside a theme's fragment: the whole page must run again


def theme_title(theme: ThemeView, *, mentions: bool = False) -> str:
    """"Label — n participants (s%), m mentions · solid" (the label is escaped: it may be participants' words)."""
    count = f", {plural(theme.mentions, 'mention')}" if mentions else ""
    steady = "" if theme.stability is None else f" · {theme.steadiness}"
    people = plural(theme.participants, "participant")
    return f"{escape_markdown(theme.label)} — {people} ({theme.share:.0f}%){count}{steady}"


def show_stability(theme: ThemeView) -> None:
    """What "solid" or "tentative" means for this theme, with its agreement figure."""
    if theme.stability is not None:
        st.caption(STEADINESS_TEXT[theme.steadiness].format(pct=round(100 * theme.stability)))


def show_subthemes(theme: ThemeView, *, quotes: bool) -> None:
    """The theme's sub-themes, one line each, with one quote each when `quotes`."""
    if not theme.subthemes:
        return
    st.caption("Within this theme")
    for sub in theme.subthemes:
        show_text(f"▸ {sub.label} — {plural(sub.participants, 'participant')}, {plural(sub.mentions, 'mention')}")
        for q in sub.quotes[:1] if quotes else []:
            show_text(f"    “{q.text}” ({q.participant})")


STEADINESS_TEXT = {
    "solid": "Solid: re-running the analysis on random 80% samples of the statements finds this theme again "
             "(agreement {pct}%).",
    "tentative": "Tentative: on random 80% samples of the statements this theme comes out differently (agreement "
                 "{pct}%). Read its quotes before relying on it.",
}


def show_segment_findings(table: SegmentTable) -> None:
    """The themes that differ between segments, one line each (labels are typed by people: escaped)."""
    notable = [t for t in table.tests if t.notable]
    for t in notable:
        st.markdown(f"★ **{escape_markdown(t.label)}** {escape_markdown(finding(t))}")
    if not notable:
        st.caption("No theme differs notably between options (Holm-adjusted p < 0.05)." if table.multiple else
                   "No theme differs notably between groups (p < 0.05).")


STATUS_TEXT = {"applied": "applied", "pending": "pending: no longer fits the themes", "discarded": "discarded"}


def show_codebook_edit(edit: EditView, labels: dict[str, str], can_edit: bool) -> tuple[str, list[str]] | None:
    """One codebook edit with its status. A pending one shows why, a choice of target theme(s) (its statements'
    themes first) and Re-apply / Discard. Returns ("reapply", theme ids) or ("discard", []) when clicked, else None.
    Widgets are keyed by the edit's id; `labels` maps theme id -> shown name (names may repeat in old runs)."""
    with st.container(border=edit.status == "pending"):
        st.markdown(f"**#{edit.seq}** · {STATUS_TEXT.get(edit.status, edit.status)}")
        show_text(edit.description)       # may quote a participant's statement: plain text
        if edit.status != "pending":
            return None
        show_text(edit.note)
        if not can_edit:
            return None
        if not edit.can_reapply:
            st.caption("Nothing can take this edit any more: discard it.")
            return ("discard", []) if st.button("Discard", key=f"cb_discard_{edit.id}") else None
        likely = [t for t in edit.candidates if t in labels]
        options = likely + [t for t in labels if t not in likely]
        if edit.several:
            targets = st.multiselect("Merge these themes", options, default=likely[:2] or None,
                                     format_func=labels.get, key=f"cb_target_{edit.id}")
        else:
            target = st.selectbox("Apply it to", options, format_func=labels.get, key=f"cb_target_{edit.id}")
            targets = [target] if target else []
        left, right = st.columns(2)
        if left.button("Re-apply", key=f"cb_reapply_{edit.id}", type="primary"):
            return "reapply", list(targets)
        if right.button("Discard", key=f"cb_discard_{edit.id}"):
            return "discard", []
    return None


def show_completion(ov: Overview) -> None:
    """Completion by step as a table, each question beside bars of how many reached and answered it. A table, not a
    chart: the results page's first screen then needs no Plotly code in the browser (bench/page_speed.py)."""
    everyone = max(ov.started, 1)
    st.dataframe(ov.completion_by_step, hide_index=True, column_config={
        "step": st.column_config.NumberColumn("Step", width="small"),
        "question": "Question",
        "critical item": None,   # on the Coverage tab; without it the bars stay in view at 1280 px
        "reached": st.column_config.ProgressColumn(
            "Reached", min_value=0, max_value=everyone, format="%d", help=f"Of {plural(ov.started, 'participant')}"),
        "answered": st.column_config.ProgressColumn(
            "Answered", min_value=0, max_value=everyone, format="%d", help="Participants who answered this step"),
    })
