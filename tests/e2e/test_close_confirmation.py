"""In a real browser: closing a session (participants can no longer answer) asks first; keeping it open changes
nothing, confirming closes it."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from tests.browser import require_browser
from tests.e2e import harness

pytestmark = pytest.mark.e2e


@pytest.fixture
def demo_server(tmp_path):
    require_browser()
    with harness.demo_server(tmp_path) as served:
        yield served


def test_close_asks_before_it_shuts_the_session(demo_server, new_page, shown_exceptions):
    from playwright.sync_api import expect

    server, demo = demo_server
    page = harness.as_creator(new_page(), server, demo, f"/design?s={demo.session_id}&tab={quote('Share & status')}")
    panel = page.get_by_role("tabpanel", name="Share & status")
    close = panel.get_by_role("button", name="Close", exact=True)
    expect(close).to_be_visible()
    harness.wait_idle(page, quiet_ms=1000)
    close.click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_text("Close this session?")).to_be_visible()
    dialog.get_by_role("button", name="Keep it open").click()
    expect(dialog).to_have_count(0)
    harness.wait_idle(page)
    expect(panel.get_by_role("button", name="Close", exact=True)).to_be_visible()      # still open
    expect(panel.get_by_role("button", name="Reopen")).to_have_count(0)
    panel.get_by_role("button", name="Close", exact=True).click()
    page.get_by_role("dialog").get_by_role("button", name="Close the session").click()
    expect(page.get_by_text("Session closed.")).to_be_visible()
    expect(page.get_by_role("tabpanel", name="Share & status").get_by_role("button", name="Reopen")).to_be_visible()
    assert harness.unexpected(shown_exceptions) == [], shown_exceptions
