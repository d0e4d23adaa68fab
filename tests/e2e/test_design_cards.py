"""In a real browser: a creator edits the guide and the pre-session form as cards (add, move, delete), saves, and
finds the result after a reload."""

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


def open_tab(page, server, demo, tab: str):
    harness.goto(page, f"{server.url}/design?s={demo.session_id}&tab={quote(tab)}")
    panel = page.get_by_role("tabpanel", name=tab)
    harness.wait_idle(page, quiet_ms=1000)
    return panel


def values(panel, label: str) -> list[str]:
    return [box.input_value() for box in panel.get_by_label(label, exact=True).all()]


def test_guide_and_form_cards_add_move_delete_and_save(demo_server, new_page, shown_exceptions):
    from playwright.sync_api import expect

    server, demo = demo_server
    page = harness.as_creator(new_page(), server, demo, f"/design?s={demo.session_id}")
    panel = open_tab(page, server, demo, "Facilitation guide")
    before = values(panel, "Question")
    assert len(before) >= 3
    panel.get_by_role("button", name="Add a question").click()
    expect(panel.get_by_label("Question", exact=True)).to_have_count(len(before) + 1)
    new = panel.get_by_label("Question", exact=True).last
    new.fill("What would you change first?")
    new.press("Tab")                                   # a text area commits its value when it loses focus
    harness.wait_idle(page)
    expect(panel.get_by_text("Unsaved changes")).to_be_visible()
    panel.get_by_role("button", name="Move up").last.click()           # the new question one up
    harness.wait_idle(page)
    panel.get_by_role("button", name="Delete").first.click()           # the first question goes
    harness.wait_idle(page)
    expected = before[1:-1] + ["What would you change first?", before[-1]]
    assert values(panel, "Question") == expected
    panel.get_by_role("button", name="Save as new version").click()
    expect(page.get_by_text("Saved as version 2.")).to_be_visible()
    panel = open_tab(page, server, demo, "Facilitation guide")          # a reload shows what was stored
    assert values(panel, "Question") == expected

    panel = open_tab(page, server, demo, "Pre-session form")
    labels = values(panel, "Label")
    panel.get_by_role("button", name="Add a field").click()
    expect(panel.get_by_label("Label", exact=True)).to_have_count(len(labels) + 1)
    field = panel.get_by_label("Label", exact=True).last
    field.fill("Your office")
    field.press("Enter")
    harness.wait_idle(page)
    panel.get_by_role("button", name="Move up").last.click()
    harness.wait_idle(page)
    panel.get_by_role("button", name="Delete").first.click()
    harness.wait_idle(page)
    expected = labels[1:-1] + ["Your office", labels[-1]]
    assert values(panel, "Label") == expected
    panel.get_by_role("button", name="Save form").click()
    expect(page.get_by_text("Form saved.")).to_be_visible()
    panel = open_tab(page, server, demo, "Pre-session form")
    assert values(panel, "Label") == expected
    assert harness.unexpected(shown_exceptions) == [], shown_exceptions
