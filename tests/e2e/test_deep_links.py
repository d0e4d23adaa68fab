"""Deep links on a freshly started server: a protected page reached before anyone ran the entry script
must still ask for sign-in and show nothing of the session (the `pages/` + first-request trap)."""

from __future__ import annotations

import json

import pytest

try:
    from playwright.sync_api import expect
except ImportError:  # the fixtures report it: skipped locally, failed in CI
    expect = None

from tests.e2e.harness import REPO, goto, sign_in, unexpected, wait_idle
from ui.warm import ELEMENTS, element_modules

pytestmark = pytest.mark.e2e

DEMO_NAME = "Demo: Retrospective"
# Every element module the pages draw has been fetched (the Summary draws no text area, chart or number input).
ELEMENT_CODE_LOADED = ("modules => modules.every(m => performance.getEntriesByType('resource')"
                       ".some(e => e.name.endsWith('/' + m)))")


def participant_texts() -> list[str]:
    """Every answer the demo participants can have given (the demo's answer bank)."""
    bank = json.loads((REPO / "data" / "demo" / "retrospective_answers.json").read_text(encoding="utf-8"))
    texts = [v for values in bank["form"].values() for v in values if isinstance(v, str) and len(v) > 12]
    for step in bank["steps"]:
        for key in ("answers", "thin_answers", "probe_answers"):
            texts += step.get(key, [])
    return texts


def test_deep_links_on_a_fresh_server(seeded_server, new_page, shown_exceptions):
    server, demo = seeded_server
    base = server.url
    answers = participant_texts()
    assert answers, "the demo answer bank is empty"

    # Nobody has opened "/" on this server yet: each protected page is the very first thing it serves.
    for path in (f"/results?s={demo.session_id}", f"/design?s={demo.session_id}", "/new", "/projects",
                 "/account", "/users", "/admin", "/import"):
        page = new_page()  # a new visitor each time
        goto(page, base + path)
        expect(page.get_by_text("Please sign in")).to_be_visible()
        wait_idle(page)
        html = page.content()
        body = page.locator("body").inner_text()
        assert DEMO_NAME not in html, f"{path} shows the session's name to a visitor who is not signed in"
        leaked = [a for a in answers if a in html or a in body]
        assert not leaked, f"{path} shows participant text to a visitor who is not signed in: {leaked[:3]}"
        assert "Traceback" not in body
        expect(page.locator('[data-testid="stException"]')).to_have_count(0)
        expect(page.locator('[data-testid="stPlotlyChart"]')).to_have_count(0)

    # An unknown participant link explains itself plainly.
    page = new_page()
    goto(page, base + "/chat?s=doesnotexist")
    expect(page.get_by_text("This link does not lead to any session")).to_be_visible()
    wait_idle(page)
    assert "Traceback" not in page.locator("body").inner_text()
    expect(page.locator('[data-testid="stException"]')).to_have_count(0)

    assert shown_exceptions == [], "a visitor who is not signed in saw an error box"

    # The demo creator signs in and the same deep links now work.
    page = new_page()
    sign_in(page, base, demo.username, demo.password)
    goto(page, f"{base}/results?s={demo.session_id}")
    expect(page.get_by_role("heading", name=f"Results: {DEMO_NAME}")).to_be_visible()
    expect(page.get_by_role("tabpanel", name="Summary").locator('[data-testid="stDataFrame"]')).to_be_visible()
    wait_idle(page)
    expect(page.get_by_text("Please sign in")).to_have_count(0)
    # The Summary draws no chart, yet the browser loads Plotly's code, and every other element's the pages draw,
    # once the page is idle (ui/warm.py) ...
    expect(page.locator('[data-testid="stPlotlyChart"]')).to_have_count(0)
    assert len(element_modules()) == len(ELEMENTS), "a Streamlit upgrade renamed an element's module: update ELEMENTS"
    page.wait_for_function(ELEMENT_CODE_LOADED, arg=list(element_modules()))
    # ... and the Themes tab's chart then draws with it.
    page.get_by_role("tab", name="Themes", exact=True).click()
    expect(page.get_by_role("tabpanel", name="Themes").locator(".js-plotly-plot")).to_be_visible()
    wait_idle(page)
    goto(page, f"{base}/design?s={demo.session_id}")
    expect(page.get_by_role("heading", name=DEMO_NAME)).to_be_visible()
    wait_idle(page)
    assert not unexpected(shown_exceptions), shown_exceptions
    assert not unexpected(server.errors()), server.errors()
