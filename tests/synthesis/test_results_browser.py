"""In a real browser: the themes chart and the verbatim quotes render on the results page.

A browser journey (Streamlit server + headless Chromium, through tests/e2e/harness.py and tests/browser.py).
"""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from tests.browser import require_browser
from tests.e2e import harness

pytestmark = pytest.mark.e2e


@pytest.fixture
def demo_server(tmp_path):
    require_browser()
    demo = harness.seed_demo(tmp_path, participants=10)
    env = {**harness.clean_env(tmp_path), "HARMONICA_AUTO_SYNTHESIS": "0"}
    done = subprocess.run([sys.executable, "-m", "core", "synthesize", demo.session_id], cwd=harness.REPO, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    server = harness.start_server(tmp_path, {"HARMONICA_AUTO_SYNTHESIS": "0"})
    yield server, demo
    server.stop()


def test_theme_chart_and_quotes_render(demo_server, new_page, shown_exceptions):
    from playwright.sync_api import expect

    server, demo = demo_server
    page = new_page()
    harness.sign_in(page, server.url, demo.username, demo.password)
    harness.goto(page, f"{server.url}/results?s={demo.session_id}")
    expect(page.get_by_text("Up to date with every included answer.")).to_be_visible()
    page.get_by_role("tab", name="Themes").click()
    harness.wait_idle(page)
    chart = page.get_by_role("tabpanel", name="Themes").locator(".js-plotly-plot")
    expect(chart.first).to_be_visible()
    expect(chart.first.locator("g.bars path").first).to_be_attached()      # bars were drawn
    panel = page.get_by_role("tabpanel", name="Themes")
    panel.locator('[data-testid="stExpander"] summary').first.click()
    harness.wait_idle(page)
    expect(panel.get_by_text("Theme 1, quote 1", exact=True)).to_be_visible()   # never "Q1.1": read as a question
    open_links = panel.get_by_role("button", name="Open in transcript")
    expect(open_links.first).to_be_visible()
    assert harness.unexpected(shown_exceptions) == [], shown_exceptions


def test_a_quote_opens_its_own_participants_transcript_marked_and_in_view(demo_server, new_page, shown_exceptions):
    from playwright.sync_api import expect

    server, demo = demo_server
    page = harness.as_creator(new_page(), server, demo, f"/results?s={demo.session_id}&tab=Themes")
    panel = page.get_by_role("tabpanel", name="Themes")
    expect(panel.locator('[data-testid="stExpander"] summary').first).to_be_visible()
    harness.wait_idle(page, quiet_ms=1000)
    panel.locator('[data-testid="stExpander"] summary').first.click()
    harness.wait_idle(page)
    # the last quote of the first theme: not Participant 1's, whose transcript opened before whatever was quoted
    button = panel.locator('[data-testid="stExpanderDetails"]').first.locator("[class*='st-key-quote_']").last
    # "Theme 1, quote 3 · Participant 7"
    who = button.locator("xpath=preceding-sibling::div[.//strong][1]").inner_text()
    participant = who.split("·")[-1].strip()
    quote = button.locator("xpath=preceding-sibling::div[1]").inner_text().strip().strip("“”")
    button.get_by_role("button", name="Open in transcript").click()
    harness.wait_idle(page)
    people = page.get_by_role("tabpanel", name="Participants")
    expect(page.get_by_role("tab", name="Participants")).to_have_attribute("aria-selected", "true")
    marked = people.locator(".st-key-quoted_message")
    expect(marked).to_be_visible()
    expect(marked).to_contain_text("Quoted message")
    expect(marked).to_contain_text(quote)
    expect(marked).to_be_in_viewport()
    picker = people.get_by_role("combobox", name="Transcript of")     # shows the quoted participant, not a stale one
    expect(picker).to_have_value(re.compile(rf"^{re.escape(participant)} \("))
    assert "tab=Participants" in page.url and "&p=" in page.url and "&m=" in page.url
    # the address alone opens the same view (shared or reloaded)
    again = harness.as_creator(new_page(), server, demo, page.url.removeprefix(server.url))
    expect(again.get_by_role("tabpanel", name="Participants").locator(".st-key-quoted_message")).to_contain_text(quote)
    assert harness.unexpected(shown_exceptions) == [], shown_exceptions
