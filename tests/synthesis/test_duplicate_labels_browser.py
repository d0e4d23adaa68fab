"""In a real browser: a Results page whose run has several themes with one label ("Answer", as on an import)
shows every tab, Codebook and Export included, with no exception (issue 15, point 6).

The run is stored the way runs were stored before labels were made unique (the pipeline's de-duplication is
switched off for that one run), then a fresh server shows it. A browser journey (tests/e2e/harness.py).
"""

from __future__ import annotations

import pytest

from tests.browser import require_browser
from tests.e2e import harness

pytestmark = pytest.mark.e2e


@pytest.fixture
def answer_server(tmp_path, monkeypatch):
    require_browser()
    from core import db as dbmod
    from core.synthesis import pipeline
    from tests.synthesis.helpers import Naming

    demo = harness.seed_demo(tmp_path, participants=12)
    db = dbmod.open_database(tmp_path / "h.duckdb")

    def namer(themes, statements):
        for th in themes.values():
            th.label = "Answer"

    with monkeypatch.context() as m:
        m.setattr(pipeline, "unique_labels", lambda names: list(names))
        pipeline.synthesize(db, [demo.session_id], params=pipeline.Params(k=4), model=Naming(namer), trigger="import")
    labels = pipeline.repo.themes_frame(db, pipeline.repo.latest_run(db, demo.session_id).id)["label"].tolist()
    assert labels.count("Answer") >= 3 and set(labels) <= {"Answer", "Other"}, labels
    dbmod.close_all()                       # the server process opens the file next
    server = harness.start_server(tmp_path, {"HARMONICA_AUTO_SYNTHESIS": "0"})
    yield server, demo
    server.stop()


def test_results_with_repeated_theme_labels_show_codebook_and_export(answer_server, new_page, shown_exceptions):
    from playwright.sync_api import expect

    server, demo = answer_server
    page = new_page()
    harness.sign_in(page, server.url, demo.username, demo.password)
    harness.goto(page, f"{server.url}/results?s={demo.session_id}")
    for name in ("Summary", "Themes", "By segment", "Coverage", "Sentiment", "Ask the data", "Codebook",
                 "Participants", "Export"):
        expect(page.get_by_role("tab", name=name)).to_be_visible()
    page.get_by_role("tab", name="By segment").click()
    harness.wait_idle(page)
    expect(page.get_by_role("tabpanel", name="By segment").locator(".js-plotly-plot").first).to_be_visible()
    page.get_by_role("tab", name="Codebook").click()
    harness.wait_idle(page)
    codebook = page.get_by_role("tabpanel", name="Codebook")
    expect(codebook.get_by_text("Answer (2)", exact=False).first).to_be_visible()
    expect(codebook.get_by_text("Answer (3)", exact=False).first).to_be_visible()   # at least three (fixture)
    page.get_by_role("tab", name="Export").click()
    harness.wait_idle(page)
    expect(page.get_by_role("tabpanel", name="Export").get_by_role("button", name="Prepare export")).to_be_visible()
    assert harness.unexpected(shown_exceptions) == [], shown_exceptions
    assert server.errors() == [], server.log_tail()
