"""Summary and theme blocks shared by the results page, public links and the participant's closing page."""

from __future__ import annotations

import streamlit as st

from core.results import EditView, SynthesisView, ThemeView
from core.synthesis.segments import SegmentTable, finding
from core.text import escape_markdown, readable_refs
from ui.charts import theme_bar
from ui.safe import show_text


def show_summary(view: SynthesisView) -> None:
    """The run's summary, line by line, as plain text (it quotes participants)."""
    for line in readable_refs(view.run.summary).splitlines():
        show_text("• " + line[2:] if line.startswith("- ") else line)


def show_themes(view: SynthesisView, *, quotes: bool, key: str) -> None:
    """The chart and each theme's description, with its pseudonymous quotes when `quotes`."""
    st.plotly_chart(theme_bar(view.themes, view.analysed), width="stretch", key=key)
    st.caption(f"Shares are of the {view.analysed} participant(s) who answered. Counts describe this sample only.")
    for theme in view.themes:
        with st.expander(theme_title(theme)):
            show_text(theme.description)
            show_stability(theme)
            for q in theme.quotes if quotes else []:
                st.caption(escape_markdown(q.participant))   # may name a session (project synthesis)
                show_text(f"“{q.text}”")
            show_subthemes(theme, quotes=quotes)


def theme_title(theme: ThemeView, *, mentions: bool = False) -> str:
    """"Label — n participants (s%), m mentions · solid" (the label is escaped: it may be participants' words)."""
    count = f", {theme.mentions} mentions" if mentions else ""
    steady = "" if theme.stability is None else f" · {theme.steadiness}"
    return f"{escape_markdown(theme.label)} — {theme.participants} participants ({theme.share:.0f}%){count}{steady}"


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
        show_text(f"▸ {sub.label} — {sub.participants} participants, {sub.mentions} mentions")
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
