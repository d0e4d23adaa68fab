"""In a real browser: the self-contained HTML report (the file researchers send on) draws its charts with every
axis label whole: theme names on the bar charts, theme rows on the segment heatmap. Checked in the SVG, not in
pixels: each label's text is the full name and its box lies inside the chart.
"""

from __future__ import annotations

import pytest

from core.export import export_session
from core.importer import import_responses
from core.synthesis.pipeline import Params, synthesize
from tests.browser import require_browser
from tests.synthesis.test_import_export import SPEC, survey_csv

pytestmark = pytest.mark.e2e


def test_the_html_reports_charts_show_whole_theme_names(db, creator, tmp_path, new_page):
    require_browser()
    result = import_responses(db, creator, survey_csv(), SPEC, filename="survey.csv")
    synthesize(db, [result.session_id], params=Params(k=4))
    from core import results

    first = results.open(db, creator, result.session_id).synthesis_view().themes[0]
    _, why = results.open(db, creator, result.session_id).edit_codebook("rename", theme_id=first.theme_id,
                           label="Deployments are slow and break the build nearly every week")   # a long name
    assert why is None
    report = tmp_path / "report.html"
    report.write_bytes(export_session(db, creator, result.session_id, "report-html"))
    labels = {t.label for t in results.open(db, creator, result.session_id).synthesis_view().themes}
    page = new_page()
    page.set_viewport_size({"width": 800, "height": 900})
    page.goto(report.as_uri())
    page.wait_for_function("document.querySelectorAll('.js-plotly-plot .main-svg').length >= 3")
    charts = page.evaluate("""() => [...document.querySelectorAll('.js-plotly-plot')].map(plot => {
        const svg = plot.querySelector('.main-svg').getBoundingClientRect();
        return [...plot.querySelectorAll('.ytick text')].map(t => {
            const box = t.getBoundingClientRect();
            return {text: t.textContent, left: box.left - svg.left, width: box.width};
        });
    })""")
    themes_chart, *others = charts
    assert {t["text"] for t in themes_chart} == labels        # every theme named, in full
    heatmap = next(c for c in others if any("★" in t["text"] or t["text"] in labels for t in c) and
                   len(c) >= len(labels) - 1)
    for chart in (themes_chart, heatmap):
        for tick in chart:
            assert tick["left"] >= 0 and tick["width"] > 6 * len(tick["text"].strip("★ ")) * 0.5, tick
