"""Invitations in a real browser: registering with the invited email gets a stranger nothing; the person
holding the invitation link becomes editor, even when registration is by invitation only (issue 15, point 2)."""

from __future__ import annotations

import re

import pytest

try:
    from playwright.sync_api import expect
except ImportError:  # the fixtures report it: skipped locally, failed in CI
    expect = None

from tests.e2e import harness
from tests.e2e.harness import goto, sign_in, wait_idle

pytestmark = pytest.mark.e2e

DEMO_NAME = "Demo: Retrospective"
INVITED_EMAIL = "invitee@example.org"
PASSWORD = "long enough pw"


def register(page, url: str, username: str, email: str) -> None:
    """Fill and submit the registration form of the page at `url` (the code field is left as it is)."""
    goto(page, url)
    wait_idle(page, quiet_ms=1000)  # a fresh page reruns when the cookie component reports: let it pass first
    page.get_by_role("tab", name="Create account").click()
    form = page.locator('[data-testid="stForm"]').filter(has=page.get_by_role("button", name="Create account"))
    form.get_by_label("Your name", exact=True).fill(username.title())
    form.get_by_label("Email", exact=True).fill(email)
    form.get_by_label("Username", exact=True).fill(username)
    form.get_by_label("Password", exact=True).fill(PASSWORD)
    form.get_by_label("Repeat password", exact=True).fill(PASSWORD)
    form.get_by_role("button", name="Create account").click()


def cannot_open_design(page, base: str, session_id: str) -> None:
    goto(page, f"{base}/design?s={session_id}")
    expect(page.get_by_text("do not have access").first).to_be_visible()
    wait_idle(page)
    assert DEMO_NAME not in page.content()


def test_only_the_link_holder_gets_the_invitation(seeded_server, new_page, shown_exceptions):
    server, demo = seeded_server
    base = server.url

    owner = new_page()
    sign_in(owner, base, demo.username, demo.password)
    goto(owner, f"{base}/design?s={demo.session_id}")
    owner.get_by_role("tab", name="Members & privacy").click()
    wait_idle(owner)  # bound tabs rerun the page
    form = owner.locator('[data-testid="stForm"]').filter(has=owner.get_by_role("button", name="Create invitation"))
    form.get_by_label("Invite: who is it for?", exact=True).fill(INVITED_EMAIL)
    form.get_by_role("combobox").click()
    owner.get_by_role("option", name="editor", exact=True).click()
    form.get_by_role("button", name="Create invitation").click()
    expect(owner.get_by_text("shown only now").first).to_be_visible()
    wait_idle(owner)
    link = re.search(r"http://\S+/\?invite=[\w-]+", owner.locator("body").inner_text()).group(0)

    # A stranger registers with the invited address (registration is open) and takes whatever is offered.
    stranger = new_page()
    register(stranger, base + "/", "stranger", INVITED_EMAIL)
    expect(stranger.get_by_text("Your account 'stranger' is ready").first).to_be_visible()   # and signed in
    wait_idle(stranger)
    harness.wait_for_cookie(stranger)
    for button in stranger.get_by_role("button", name="Accept").all():
        button.click()
        wait_idle(stranger)
    assert DEMO_NAME not in stranger.locator("body").inner_text()
    cannot_open_design(stranger, base, demo.session_id)

    # Registration becomes invitation-only: the invited email alone no longer even makes an account.
    goto(owner, f"{base}/users")
    owner.get_by_role("combobox").first.click()
    owner.get_by_role("option", name="Only people with an invitation code").click()
    wait_idle(owner)
    late = new_page()
    register(late, base + "/", "stranger2", "stranger2@example.org")
    expect(late.get_by_text("Registration is by invitation").first).to_be_visible()

    # The person with the link registers (the code is filled in from it) and can open the Design page.
    invitee = new_page()
    goto(invitee, link)
    expect(invitee.get_by_text("You have an invitation").first).to_be_visible()
    register(invitee, link, "friend", "friend@example.net")
    expect(invitee.get_by_text("Your invitation is accepted").first).to_be_visible()
    expect(invitee.get_by_text(DEMO_NAME).first).to_be_visible()
    wait_idle(invitee)
    harness.wait_for_cookie(invitee)
    goto(invitee, f"{base}/design?s={demo.session_id}")
    expect(invitee.get_by_role("heading", name=DEMO_NAME).first).to_be_visible()
    wait_idle(invitee)
    expect(invitee.get_by_text("do not have access")).to_have_count(0)

    # The link is used up: the stranger, signed in, opening it gets nothing.
    goto(stranger, link)
    expect(stranger.get_by_text("not valid").first).to_be_visible()
    wait_idle(stranger)
    cannot_open_design(stranger, base, demo.session_id)

    # An existing account opens a new link while signed out, signs in there, and accepts it.
    goto(owner, f"{base}/design?s={demo.session_id}&tab=Members+%26+privacy")
    form = owner.locator('[data-testid="stForm"]').filter(has=owner.get_by_role("button", name="Create invitation"))
    form.get_by_label("Invite: who is it for?", exact=True).fill("the stranger, after all")
    form.get_by_role("button", name="Create invitation").click()
    expect(owner.get_by_text("shown only now").first).to_be_visible()
    wait_idle(owner)
    second = re.search(r"http://\S+/\?invite=[\w-]+", owner.locator("body").inner_text()).group(0)
    returning = new_page()
    goto(returning, second)
    sign_in_form = returning.locator('[data-testid="stForm"]').filter(
        has=returning.get_by_role("button", name="Sign in"))
    sign_in_form.get_by_label("Username", exact=True).fill("stranger")
    sign_in_form.get_by_label("Password", exact=True).fill(PASSWORD)
    sign_in_form.get_by_role("button", name="Sign in").click()
    expect(returning.get_by_role("heading", name="Your sessions").first).to_be_visible()
    wait_idle(returning)  # signing in reruns the page (the cookie is written by a component) before it settles
    expect(returning.get_by_text(f"invited to the session “{DEMO_NAME}” as viewer").first).to_be_visible()
    wait_idle(returning)
    returning.get_by_role("button", name="Accept").click()
    expect(returning.get_by_text("Invitation accepted: you are now viewer").first).to_be_visible()
    wait_idle(returning)
    cannot_open_design(returning, base, demo.session_id)  # a viewer: results only, as invited
    assert shown_exceptions == []
