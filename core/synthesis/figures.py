"""Plotly figures for results (no Streamlit: the page and the HTML report both use them).

Labels are escaped: plotly renders a few HTML tags inside text, and theme names can be typed by people.
"""

from __future__ import annotations

import html

import pandas as pd
import plotly.graph_objects as go

from core.synthesis.coverage import ANSWERED, NOT_REACHED, SKIPPED, THIN
from core.text import plural

INDIGO = "#4f46e5"
GREY = "#9ca3af"


def _t(text: str, n: int = 60) -> str:
    text = html.escape(str(text), quote=False)
    return text if len(text) <= n else text[:n - 1] + "…"


def _labels_fit(fig: go.Figure) -> go.Figure:
    """Margins grow to fit the axis labels: Streamlit does this for its own charts, a saved HTML report does not
    (theme names were clipped to one or two letters, heatmap rows had no visible names)."""
    fig.update_xaxes(automargin=True)
    fig.update_yaxes(automargin=True)
    return fig


def theme_order(themes: list, sort_by: str = "participants") -> list:
    """Largest first by distinct participants (or mentions), "Other" last whatever its size: the order of the
    themes chart (bottom to top reversed) and of every list beside it."""
    key = "mentions" if sort_by == "mentions" else "participants"
    return sorted(themes, key=lambda t: (getattr(t, "origin", "") == "other", -getattr(t, key), -t.participants,
                                         -t.mentions))


def theme_bar(themes, analysed: int, sort_by: str = "participants") -> go.Figure:
    """Horizontal bars: distinct participants (or mentions) per theme, largest on top; "Other" (statements that
    fit no theme) at the bottom, in grey."""
    key = "mentions" if sort_by == "mentions" else "participants"
    ordered = theme_order(themes, sort_by)[::-1]      # plotly draws the first bar at the bottom
    values = [getattr(t, key) for t in ordered]
    shares = [100 * t.participants / analysed if analysed else 0 for t in ordered]
    text = ([f"{t.participants} ({s:.0f}%)" for t, s in zip(ordered, shares)] if key == "participants"
            else [str(t.mentions) for t in ordered])
    fig = go.Figure(go.Bar(
        x=values, y=[_t(t.label) for t in ordered], orientation="h", text=text, textposition="auto",
        customdata=[[plural(t.participants, "participant"), plural(t.mentions, "mention"), s]
                    for t, s in zip(ordered, shares)],
        hovertemplate="%{y}: %{customdata[0]} (%{customdata[2]:.0f}%), %{customdata[1]}<extra></extra>",
        marker_color=[GREY if getattr(t, "origin", "") == "other" else INDIGO for t in ordered],
    ))
    fig.update_layout(xaxis_title="Distinct participants" if key == "participants" else "Mentions",
                      yaxis_title=None, height=100 + 32 * len(ordered), margin=dict(l=10, r=10, t=10, b=40))
    return _labels_fit(fig)


def segment_heatmap(table) -> go.Figure:
    """Theme share (% of the group's participants) per answer group; notable themes marked ★ (for a
    multiple-choice field, also the notable option cells). Rows are keyed by theme id; two rows never merge."""
    from core.synthesis.theme_names import unique_labels

    cols = unique_labels([f"{_t(g, 30)} (n={table.sizes[g]}{', small' if g in table.small else ''})"
                          for g in table.groups])
    notable = {t.theme_id for t in table.tests if t.notable}
    cells = {(t.theme_id, t.group) for t in table.tests if t.notable and t.group is not None}
    rows = unique_labels([("★ " if tid in notable else "") + _t(table.label(tid)) for tid in table.shares.index])
    z = (table.shares * 100).round(0).to_numpy()
    fig = go.Figure(go.Heatmap(
        z=z, x=cols, y=rows, colorscale="Blues", zmin=0, zmax=100,
        text=[[f"{v:.0f}% ({int(c)}){' ★' if (tid, g) in cells else ''}" for v, c, g in zip(zr, cr, table.groups)]
              for tid, zr, cr in zip(table.shares.index, z, table.counts.to_numpy())],
        texttemplate="%{text}", hovertemplate="%{y} · %{x}: %{text}<extra></extra>",
        colorbar=dict(title="% of group"),
    ))
    fig.update_layout(height=120 + 34 * len(rows), margin=dict(l=10, r=10, t=10, b=40),
                      yaxis=dict(autorange="reversed"))
    return _labels_fit(fig)


SENTIMENT_COLORS = {"positive": "#16a34a", "neutral": "#9ca3af", "negative": "#dc2626"}


def sentiment_bar(themes) -> go.Figure:
    ordered = list(reversed(themes))
    fig = go.Figure()
    for name, color in SENTIMENT_COLORS.items():
        fig.add_bar(name=name, y=[_t(t.label) for t in ordered], x=[t.sentiment.get(name, 0) for t in ordered],
                    orientation="h", marker_color=color)
    fig.update_layout(barmode="stack", xaxis_title="Statements", height=100 + 32 * len(ordered),
                      margin=dict(l=10, r=10, t=10, b=40), legend=dict(orientation="h"))
    return _labels_fit(fig)


COVERAGE_CODES = {NOT_REACHED: 0, SKIPPED: 1, THIN: 2, ANSWERED: 3}


def coverage_heatmap(matrix: pd.DataFrame) -> go.Figure:
    z = matrix.replace(COVERAGE_CODES).astype(float).to_numpy() if not matrix.empty else [[]]
    scale = [[0.0, "#f3f4f6"], [0.25, "#f3f4f6"], [0.25, "#fca5a5"], [0.5, "#fca5a5"], [0.5, "#fde68a"],
             [0.75, "#fde68a"], [0.75, "#4ade80"], [1.0, "#4ade80"]]
    fig = go.Figure(go.Heatmap(
        z=z, x=list(matrix.columns), y=[_t(i) for i in matrix.index], zmin=-0.5, zmax=3.5, colorscale=scale,
        text=matrix.to_numpy(), hovertemplate="%{y} · %{x}: %{text}<extra></extra>",
        colorbar=dict(tickvals=[0, 1, 2, 3], ticktext=[NOT_REACHED, SKIPPED, THIN, ANSWERED]),
    ))
    fig.update_layout(height=120 + 40 * len(matrix.index), margin=dict(l=10, r=10, t=10, b=40),
                      yaxis=dict(autorange="reversed"))
    return _labels_fit(fig)


COVERAGE_COLORS = {ANSWERED: "#4ade80", THIN: "#fde68a", SKIPPED: "#fca5a5", NOT_REACHED: "#e5e7eb"}


def coverage_bar(counts: pd.DataFrame) -> go.Figure:
    """Coverage as counts (rows = critical items; columns answered, thin, skipped, not reached): one stacked bar per
    item, for sessions too large for one column per participant (core.results.coverage_counts)."""
    rows = [_t(i) for i in counts.index]
    fig = go.Figure()
    for status, color in COVERAGE_COLORS.items():
        values = counts[status].tolist() if status in counts.columns else [0] * len(rows)
        fig.add_bar(name=status, y=rows, x=values, orientation="h", marker_color=color,
                    hovertemplate="%{y} · " + status + ": %{x:,}<extra></extra>")
    fig.update_layout(barmode="stack", xaxis_title="Participants", height=120 + 40 * len(rows),
                      margin=dict(l=10, r=10, t=10, b=40), legend=dict(orientation="h"),
                      yaxis=dict(autorange="reversed"))
    return _labels_fit(fig)


def session_share_heatmap(themes, sessions: list[tuple[str, str]], sizes: dict[str, int]) -> go.Figure:
    """Project synthesis: theme share (% of each session's analysed participants) per session.

    `themes`: ThemeView-like objects with `.label` and `.sessions` (session id -> distinct participants);
    `sessions`: (id, name) in column order; `sizes`: session id -> analysed participants in the run.
    """
    cols = [f"{_t(name, 30)} (n={sizes.get(sid, 0)})" for sid, name in sessions]
    rows = [_t(t.label) for t in themes]
    counts = [[int(t.sessions.get(sid, 0)) for sid, _ in sessions] for t in themes]
    z = [[100.0 * c / sizes[sid] if sizes.get(sid) else 0.0 for c, (sid, _) in zip(row, sessions)]
         for row in counts]
    fig = go.Figure(go.Heatmap(
        z=z or [[]], x=cols, y=rows, colorscale="Blues", zmin=0, zmax=100,
        text=[[f"{v:.0f}% ({c})" for v, c in zip(zr, cr)] for zr, cr in zip(z, counts)],
        texttemplate="%{text}", hovertemplate="%{y} · %{x}: %{text}<extra></extra>",
        colorbar=dict(title="% of session"),
    ))
    fig.update_layout(height=120 + 34 * len(rows), margin=dict(l=10, r=10, t=10, b=40),
                      yaxis=dict(autorange="reversed"))
    return _labels_fit(fig)
