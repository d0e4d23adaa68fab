"""Plotly figures for the results pages."""

from __future__ import annotations

import plotly.graph_objects as go

from core.synthesis.keywords import Theme


def theme_bar(themes: list[Theme], included: int) -> go.Figure:
    """Horizontal bars: distinct participants per theme, largest on top."""
    ordered = sorted(themes, key=lambda t: t.participants)
    shares = [100 * t.participants / included if included else 0 for t in ordered]
    fig = go.Figure(go.Bar(
        x=[t.participants for t in ordered],
        y=[t.label for t in ordered],
        orientation="h",
        text=[f"{t.participants} ({s:.0f}%)" for t, s in zip(ordered, shares)],
        textposition="auto",
        customdata=[t.mentions for t in ordered],
        hovertemplate="%{y}: %{x} participants, %{customdata} mentions<extra></extra>",
        marker_color="#4f46e5",
    ))
    fig.update_layout(
        xaxis_title="Distinct participants", yaxis_title=None, height=80 + 40 * len(ordered),
        margin=dict(l=10, r=10, t=10, b=40),
    )
    return fig
