"""Plotly figures for the results pages (built in core.synthesis.figures, shared with the HTML report)."""

from __future__ import annotations

from core.synthesis.figures import (  # noqa: F401
                                    coverage_bar,
                                    coverage_heatmap,
                                    segment_heatmap,
                                    sentiment_bar,
                                    session_share_heatmap,
                                    theme_bar,
                                    theme_order,
)
