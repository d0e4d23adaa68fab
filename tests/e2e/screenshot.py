"""Take the README screenshot of the results page: `python -m tests.e2e.screenshot [output.png]`; with `--screens`,
also the other screens docs/screens.md shows (the guide and form editors, the Close confirmation, a quote opened
in its transcript, sign-up errors) into docs/screens/.

Not a test. Seeds a demo database in a temporary folder (`python -m core seed-demo`), starts the app on a
free port of 127.0.0.1, signs in as the demo creator, opens the demo session's results, waits for the
themes chart and saves a full-page screenshot (default docs/results.png). Needs Playwright and Debian's
Chromium at /usr/bin/chromium; never downloads a browser.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from tests.e2e import harness

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
                summary = page.get_by_role("tabpanel", name="Summary")
                expect(summary.locator('[data-testid="stDataFrame"]')).to_be_visible()
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


def take_screens(folder: Path) -> list[Path]:
    """The screens changed for issues 9, 11 and 14, and the public results page, each at 1280 px wide, in `folder`."""
    from urllib.parse import quote

    from playwright.sync_api import expect, sync_playwright

    saved = []
    with tempfile.TemporaryDirectory(prefix="harmonica_shot_") as tmp, sync_playwright() as driver:
        with harness.demo_server(Path(tmp), participants=12) as (server, demo):
            browser = harness.launch_browser(driver)
            context = browser.new_context(viewport={"width": WIDTH, "height": 900}, device_scale_factor=1)
            context.set_default_timeout(harness.TIMEOUT_MS)
            page = context.new_page()

            def shot(name: str, height: int = 900, locator=None) -> None:
                page.set_viewport_size({"width": WIDTH, "height": height})
                harness.wait_idle(page, quiet_ms=500)
                path = folder / f"{name}.png"
                (locator or page).screenshot(path=str(path))
                saved.append(path)

            harness.goto(page, server.url + "/")
            page.get_by_role("tab", name="Create account").click()
            form = page.locator('[data-testid="stForm"]').filter(has=page.get_by_role("button", name="Create account"))
            form.get_by_label("Email", exact=True).fill("not an address")
            form.get_by_label("Username", exact=True).fill("a")
            form.get_by_role("button", name="Create account").click()
            expect(page.get_by_text("The account was not created")).to_be_visible()
            shot("sign-up-errors", 1100)
            harness.sign_in(page, server.url, demo.username, demo.password)
            expect(page.get_by_text("started ·").first).to_be_visible()
            shot("dashboard", 600)
            design = f"{server.url}/design?s={demo.session_id}&tab="
            harness.goto(page, design + quote("Brief"))
            page.get_by_label("Objective").fill("Learn what slowed us down this sprint, and what to change first")
            page.get_by_label("Objective").blur()
            expect(page.get_by_text("Unsaved changes")).to_be_visible()
            shot("brief-unsaved", 1000)
            harness.goto(page, design + quote("Facilitation guide"))
            shot("guide-editor", 1300)
            harness.goto(page, design + quote("Pre-session form"))
            shot("form-editor", 1300)
            harness.goto(page, design + quote("Share & status"))
            page.get_by_role("tabpanel", name="Share & status").get_by_role("button", name="Close", exact=True).click()
            expect(page.get_by_role("dialog")).to_be_visible()
            shot("close-confirmation")
            page.get_by_role("dialog").get_by_role("button", name="Keep it open").click()
            harness.goto(page, f"{server.url}/results?s={demo.session_id}&tab=Summary")
            shot("results-summary", 1500)
            harness.goto(page, f"{server.url}/results?s={demo.session_id}&tab=Themes")
            panel = page.get_by_role("tabpanel", name="Themes")
            panel.locator('[data-testid="stExpander"] summary').first.click()
            harness.wait_idle(page)
            shot("theme-quotes", 1300)
            panel.get_by_role("button", name="Open in transcript").first.click()
            expect(page.locator(".st-key-quoted_message")).to_be_visible()
            shot("quote-in-transcript")
            harness.goto(page, f"{server.url}/backups")
            page.get_by_role("button", name="Take a snapshot now").click()
            expect(page.get_by_text("What it holds")).to_be_visible()
            shot("backups", 1100)
            harness.goto(page, f"{server.url}/account")
            page.get_by_label("Key name").fill("Claude Code on my laptop")
            page.get_by_role("button", name="Create key").click()
            expect(page.get_by_text("it will not be shown again")).to_be_visible()
            shot("api-keys", 1300)
            browser.close()
        with harness.demo_server(Path(tmp) / "public", participants=12, prepare=_public_link) as (server, demo):
            browser = harness.launch_browser(driver)
            page = browser.new_page(viewport={"width": WIDTH, "height": 900}, device_scale_factor=1)
            harness.goto(page, f"{server.url}/public?t={_public_link.token}")
            expect(page.locator(".js-plotly-plot").first).to_be_visible(timeout=harness.TIMEOUT_MS)
            shot("public-results", 1700)
            browser.close()
    return saved


def _public_link(path: Path, demo: harness.Demo) -> None:
    """Before the server starts: the demo session public, with a link showing its summary and themes (no quotes)."""
    from core.db import Database
    from core.repos import users as urepo
    from core.sharing import create_public_link, set_visibility

    db = Database(path)
    owner = urepo.get_by_username(db, demo.username)
    set_visibility(db, owner, demo.session_id, "public")
    _public_link.token = create_public_link(db, owner, demo.session_id, ["summary", "themes"])
    db.close()


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if a != "--screens"]
    target = Path(args[0]) if args else harness.REPO / "docs" / "results.png"
    print(f"Saved {take(target)}")
    if "--screens" in sys.argv:
        for path in take_screens(harness.REPO / "docs" / "screens"):
            print(f"Saved {path}")
