"""Sharing and privacy in a real browser: a public link shows only the chosen sections and dies when revoked;
a participant who deletes their participation disappears from the results page, quotes included."""

from __future__ import annotations

import re

import pytest

try:
    from playwright.sync_api import expect
except ImportError:  # the fixtures report it: skipped locally, failed in CI
    expect = None

from tests.e2e.harness import goto, sign_in, wait_idle

pytestmark = pytest.mark.e2e

PHRASE = "zanzibar rotation"


def test_public_link_sections_and_revocation(seeded_server, new_page):
    server, demo = seeded_server
    owner = new_page()
    sign_in(owner, server.url, demo.username, demo.password)
    goto(owner, f"{server.url}/design?s={demo.session_id}")
    owner.get_by_role("tab", name="Members & privacy").click()
    wait_idle(owner)  # bound tabs rerun the page
    owner.get_by_text("Members, and anyone with a public link").click()
    expect(owner.get_by_text("Public read-only links")).to_be_visible()
    wait_idle(owner)
    owner.get_by_text("Themes and chart", exact=True).click()  # on by default: switch it off
    owner.get_by_role("button", name="Create public link").click()
    expect(owner.get_by_text("Public link created.")).to_be_visible()
    wait_idle(owner)
    link = re.search(r"http://\S+/public\?t=[\w-]+", owner.locator("body").inner_text()).group(0)

    visitor = new_page()
    goto(visitor, link)
    expect(visitor.get_by_role("heading", name="Summary")).to_be_visible()
    expect(visitor.get_by_role("heading", name="Themes")).to_have_count(0)
    expect(visitor.locator('[data-testid="stPlotlyChart"]')).to_have_count(0)
    expect(visitor.get_by_role("heading", name="Transcripts")).to_have_count(0)

    owner.get_by_role("button", name="Revoke").click()
    expect(owner.get_by_text("Link revoked.")).to_be_visible()
    wait_idle(owner)
    late = new_page()
    goto(late, link)
    expect(late.get_by_text("has been revoked")).to_be_visible()
    expect(late.get_by_role("heading", name="Summary")).to_have_count(0)


def answer_all_steps(page) -> None:
    while page.get_by_text("Here is a recap").count() == 0:
        page.locator('[data-testid="stForm"] textarea').fill(
            f"The {PHRASE} of on-call duty is what I would change first, it wears everyone out every week.")
        page.get_by_role("button", name="Send", exact=True).click()
        wait_idle(page)


def test_deleted_participant_disappears_from_results(seeded_server, new_page):
    server, demo = seeded_server
    participant = new_page()
    goto(participant, f"{server.url}/chat?s={demo.session_id}")
    participant.get_by_text("Engineering", exact=True).click()
    participant.get_by_text("1 to 3 years", exact=True).click()
    participant.get_by_text("I have read the above and agree to take part").click()
    participant.get_by_role("button", name="Start the conversation").click()
    expect(participant.get_by_text("Step 1 of")).to_be_visible()
    wait_idle(participant)
    answer_all_steps(participant)

    owner = new_page()
    sign_in(owner, server.url, demo.username, demo.password)
    goto(owner, f"{server.url}/results?s={demo.session_id}")
    owner.get_by_role("button", name="Re-run synthesis").click()
    expect(owner.get_by_text("Up to date with every included answer.")).to_be_visible()
    wait_idle(owner)
    owner.get_by_role("tab", name="Participants", exact=True).click()
    wait_idle(owner)  # the tab is bound to ?tab=: switching reruns the page
    panel = owner.get_by_role("tabpanel", name="Participants")
    picker = panel.get_by_role("combobox")
    picker.click()
    picker.fill("Participant 9")  # the option list is virtualised: filter rather than scroll
    owner.get_by_role("option", name="Participant 9 (completed)").click()
    expect(panel.get_by_text(PHRASE).first).to_be_visible()
    wait_idle(owner)

    participant.get_by_role("button", name="Delete my participation").click()
    participant.get_by_role("button", name="Delete everything").click()
    expect(participant.get_by_text("Your participation has been deleted")).to_be_visible()

    goto(owner, f"{server.url}/results?s={demo.session_id}")
    wait_idle(owner)
    html = owner.content()
    assert PHRASE not in html, "the deleted participant's words are still on the results page"
    assert "Participant 9" not in html
