"""In a real browser: the themes chart and the verbatim quotes render on the results page.

A browser journey (Streamlit server + headless Chromium, through tests/e2e/harness.py and tests/browser.py).
"""

from __future__ import annotations

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
    expect(panel.get_by_text("Q1.1")).to_be_visible()
    expect(panel.get_by_role("link", name="Open in transcript").first).to_be_visible()
    assert harness.unexpected(shown_exceptions) == [], shown_exceptions
