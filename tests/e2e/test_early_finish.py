"""In a real browser: a participant who pressed Finish before the last step is shown as such on the results page
(the "Ended early" figure and their status), apart from those who completed the guide."""

from __future__ import annotations

import pytest

from tests.browser import require_browser
from tests.e2e import harness

pytestmark = pytest.mark.e2e


def finish_one_early(path, demo) -> None:
    """A third participant answers the first question, then presses Finish."""
    from core import conversation
    from core import db as dbmod

    db = dbmod.open_database(path)
    token = conversation.join(db, demo.session_id, {"team": "Design", "tenure": "1 to 3 years",
                                                    "overall_rating": "7"}).token
    conversation.respond(db, token)          # the opening question
    conversation.send(db, token, "Busy sprint, the deploy pipeline held every release up for days on end.")
    recap = conversation.finish(db, token)
    assert "we will stop here" in recap.content
    dbmod.close_all()                        # the server process opens the file next


@pytest.fixture
def early_server(tmp_path):
    require_browser()
    with harness.demo_server(tmp_path, participants=2, prepare=finish_one_early) as served:
        yield served


def test_a_participant_who_ended_early_is_shown_as_such(early_server, new_page, shown_exceptions):
    from playwright.sync_api import expect

    server, demo = early_server
    page = harness.as_creator(new_page(), server, demo, f"/results?s={demo.session_id}&tab=Participants")
    metrics = {m.locator('[data-testid="stMetricLabel"]').inner_text().strip():
               m.locator('[data-testid="stMetricValue"]').inner_text().strip()
               for m in page.locator('[data-testid="stMetric"]').all()}
    assert metrics["Completed"] == "2" and metrics["Ended early"] == "1", metrics
    people = page.get_by_role("tabpanel", name="Participants")
    picker = people.get_by_role("combobox", name="Transcript of")
    expect(picker).to_have_value("Participant 1 (completed)")
    picker.click()
    expect(page.get_by_role("option", name="Participant 3 (ended early)")).to_be_visible()
    page.keyboard.press("Escape")
    # The dashboard counts them apart too.
    harness.goto(page, server.url + "/")
    columns = page.locator('[data-testid="stHorizontalBlock"]')
    row = columns.filter(has_text="Demo: Retrospective")
    expect(row).to_contain_text("3 started · 2 completed · 1 ended early")
    assert harness.unexpected(shown_exceptions) == [], shown_exceptions
