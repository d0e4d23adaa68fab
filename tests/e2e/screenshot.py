"""Take the README screenshot of the results page: `python tests/e2e/screenshot.py [output.png]`.

Not a test. Seeds a demo database in a temporary folder (`python -m core seed-demo`), starts the app on a
free port of 127.0.0.1, signs in as the demo creator, opens the demo session's results, waits for the
themes chart and saves a full-page screenshot (default docs/results.png). Needs Playwright and Debian's
Chromium at /usr/bin/chromium; never downloads a browser.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.e2e import harness  # noqa: E402

WIDTH = 1280


def full_height(page) -> int:
    """Streamlit scrolls inside its own container, so a "full page" screenshot needs a tall enough viewport."""
    return page.evaluate("""() => {
        const boxes = [document.documentElement, document.body, ...document.querySelectorAll(
            '[data-testid="stAppViewContainer"], [data-testid="stMain"], section')];
        return Math.max(...boxes.map(b => b.scrollHeight));
    }""")


def take(output: Path, participants: int = 30) -> Path:
    reason = harness.missing_browser()
    if reason:
        raise SystemExit(f"cannot take the screenshot: {reason}")
    from playwright.sync_api import expect, sync_playwright

    with tempfile.TemporaryDirectory(prefix="harmonica_shot_") as tmp:
        workdir = Path(tmp)
        demo = harness.seed_demo(workdir, participants=participants)
        server = harness.start_server(workdir)
        try:
            with sync_playwright() as driver:
                browser = harness.launch_browser(driver)
                context = browser.new_context(viewport={"width": WIDTH, "height": 900}, device_scale_factor=1)
                context.set_default_timeout(harness.TIMEOUT_MS)
                page = context.new_page()
                harness.sign_in(page, server.url, demo.username, demo.password)
                harness.goto(page, f"{server.url}/results?s={demo.session_id}")
                expect(page.get_by_role("heading", name="Results: Demo: Retrospective")).to_be_visible()
                expect(page.locator('[data-testid="stPlotlyChart"] .js-plotly-plot').first).to_be_visible()
                harness.wait_idle(page)
                run_now = page.get_by_role("button", name="Re-run synthesis")
                if page.get_by_text("No synthesis yet").count() and run_now.count():
                    # seed-demo leaves the first synthesis to the server's debounced refresh: run it now.
                    run_now.click()
                    expect(page.get_by_text("Up to date with every included answer.")).to_be_visible(timeout=120_000)
                    harness.wait_idle(page)
                themes_tab = page.get_by_role("tab", name="Themes", exact=True)
                if themes_tab.count():  # the themes chart is the picture worth showing
                    themes_tab.click()
                    panel = page.get_by_role("tabpanel", name="Themes")
                    expect(panel.locator('[data-testid="stPlotlyChart"] .js-plotly-plot')).to_be_visible()
                    harness.wait_idle(page)
                page.set_viewport_size({"width": WIDTH, "height": min(full_height(page) + 40, 6000)})
                harness.wait_idle(page)
                # Plotly redraws after a resize.
                expect(page.locator('.js-plotly-plot .bars path').filter(visible=True).first).to_be_visible()
                output.parent.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(output), full_page=True)
                browser.close()
        finally:
            server.stop()
    return output


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else harness.REPO / "docs" / "results.png"
    print(f"Saved {take(target)}")
