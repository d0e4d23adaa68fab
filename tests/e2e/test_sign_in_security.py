"""Sign-in in a real browser (issue 15): a mixed-case username is locked like any other (point 1); a copied
sign-in cookie stops working after sign-out and after a password change (point 5); a temporary password set
by an administrator opens only the change-password form (point 10)."""

from __future__ import annotations

import re

import pytest

try:
    from playwright.sync_api import expect
except ImportError:  # the fixtures report it: skipped locally, failed in CI
    expect = None

from tests.browser import require_browser
from tests.e2e import harness
from tests.e2e.harness import goto, sign_in, wait_idle

pytestmark = pytest.mark.e2e

PASSWORD = "long enough pw"
COOKIE = "harmonica_auth"
USERS = ("Admin1", "MixUser1", "carol", "dave", "erin")  # the first account is the site admin


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A fresh server on a database holding USERS (created before the server opens the file)."""
    require_browser()
    from core.accounts import register
    from core.db import Database

    workdir = tmp_path_factory.mktemp("e2e_sign_in")
    db = Database(workdir / "h.duckdb")
    for username in USERS:
        register(db, username, f"{username.lower()}@example.org", username, PASSWORD, PASSWORD)
    db.close()
    srv = harness.start_server(workdir)
    yield srv
    assert harness.unexpected(srv.errors()) == []
    srv.stop()


def submit_sign_in(page, base: str, username: str, password: str) -> None:
    """A fresh page load of the home page, then one submission of the sign-in form."""
    goto(page, base + "/")
    # A fresh page runs again once the cookie component reports, which can drop a click made in between: a longer
    # quiet period lets that second run pass first (seen under load).
    wait_idle(page, quiet_ms=1000)
    form = page.locator('[data-testid="stForm"]').filter(has=page.get_by_role("button", name="Sign in"))
    form.get_by_label("Username", exact=True).fill(username)
    form.get_by_label("Password", exact=True).fill(password)
    form.get_by_role("button", name="Sign in").click()


def sign_in_cookie(page) -> dict:
    """The sign-in cookie of the page's browser, once the cookie component has written it."""
    page.wait_for_function(f"document.cookie.includes('{COOKIE}=')")  # written by script: not HttpOnly
    return next(c for c in page.context.cookies() if c["name"] == COOKIE)


def with_cookie(new_page, cookie: dict):
    """A new visitor (own browser context) holding a copy of `cookie`."""
    page = new_page()
    page.context.add_cookies([{k: cookie[k] for k in ("name", "value", "domain", "path", "expires", "sameSite")}])
    return page


def shows_account(page, base: str) -> None:
    goto(page, base + "/account")
    expect(page.get_by_role("heading", name="Your account").first).to_be_visible()


def refused(page, base: str) -> None:
    goto(page, base + "/account")
    expect(page.get_by_text("Please sign in to see this page.").first).to_be_visible()
    wait_idle(page)
    expect(page.get_by_role("heading", name="Your account")).to_have_count(0)


def test_mixed_case_username_is_locked_after_wrong_passwords(server, new_page, shown_exceptions):
    page = new_page()
    for attempt in range(6):
        submit_sign_in(page, server.url, "MixUser1", "wrong password")
        message = "Username or password is incorrect." if attempt < 5 else "Too many failed attempts"
        expect(page.get_by_text(message).first).to_be_visible()
        wait_idle(page)
    submit_sign_in(page, server.url, "MixUser1", PASSWORD)
    expect(page.get_by_text("Too many failed attempts").first).to_be_visible()
    wait_idle(page)
    expect(page.get_by_role("heading", name="Your sessions")).to_have_count(0)
    refused(page, server.url)
    assert shown_exceptions == []


def test_copied_cookie_dies_at_sign_out(server, new_page, shown_exceptions):
    page = new_page()
    sign_in(page, server.url, "carol", PASSWORD)
    cookie = sign_in_cookie(page)
    assert cookie["sameSite"] == "Strict"  # what the cookie component sets; HttpOnly it cannot set

    thief = with_cookie(new_page, cookie)
    shows_account(thief, server.url)  # the copy works while carol is signed in
    wait_idle(thief)  # settled: the next run of the thief's session is the one the click below starts

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("tab", name="Sign in").first).to_be_visible()
    wait_idle(page)

    refused(with_cookie(new_page, cookie), server.url)  # a fresh browser with the copy
    thief.get_by_role("link", name="Dashboard").click()  # the thief's open session, on its next run
    expect(thief.get_by_role("tab", name="Sign in").first).to_be_visible()
    wait_idle(thief)
    expect(thief.get_by_role("heading", name="Your sessions")).to_have_count(0)
    assert shown_exceptions == []


def test_copied_cookie_dies_at_password_change(server, new_page, shown_exceptions):
    page = new_page()
    sign_in(page, server.url, "dave", PASSWORD)
    old = sign_in_cookie(page)
    shows_account(with_cookie(new_page, old), server.url)

    goto(page, server.url + "/account")
    form = page.locator('[data-testid="stForm"]').filter(has=page.get_by_role("button", name="Change password"))
    form.get_by_label("Current password", exact=True).fill(PASSWORD)
    form.get_by_label("New password", exact=True).fill("a brand new pw")
    form.get_by_label("Repeat new password", exact=True).fill("a brand new pw")
    form.get_by_role("button", name="Change password").click()
    expect(page.get_by_text("Your new password is set.").first).to_be_visible()
    wait_idle(page)
    refused(with_cookie(new_page, old), server.url)

    page.wait_for_function(f"!document.cookie.includes('{COOKIE}={old['value']}')")  # the renewed cookie
    new = sign_in_cookie(page)
    shows_account(with_cookie(new_page, new), server.url)  # the browser that changed it stays signed in
    shows_account(page, server.url)
    assert shown_exceptions == []


def test_temporary_password_opens_only_the_change_form(server, new_page, shown_exceptions):
    admin = new_page()
    sign_in(admin, server.url, "Admin1", PASSWORD)
    goto(admin, server.url + "/users")
    row = admin.locator('[data-testid="stHorizontalBlock"]').filter(has_text="erin@example.org")
    expect(row.get_by_role("button", name="Reset password")).to_be_visible()
    wait_idle(admin)  # a new page load runs twice (the cookie arrives from a component): click once it settled
    row.get_by_role("button", name="Reset password").click()
    expect(admin.get_by_text("temporary password for erin").first).to_be_visible()
    wait_idle(admin)
    temporary = re.search(r"temporary password for erin: (\S+)", admin.locator("body").inner_text()).group(1)

    erin = new_page()
    submit_sign_in(erin, server.url, "erin", temporary)
    expect(erin.get_by_role("heading", name="Choose a new password").first).to_be_visible()
    wait_idle(erin)
    expect(erin.get_by_role("heading", name="Your sessions")).to_have_count(0)
    temporary_cookie = sign_in_cookie(erin)
    for path in ("/new", "/projects", "/users", "/account"):  # deep links, each a new page load
        goto(erin, server.url + path)
        expect(erin.get_by_role("heading", name="Choose a new password").first).to_be_visible()
        wait_idle(erin)
        expect(erin.get_by_role("heading", name="Your account")).to_have_count(0)

    form = erin.locator('[data-testid="stForm"]').filter(has=erin.get_by_role("button", name="Set my password"))
    form.get_by_label("Temporary password", exact=True).fill(temporary)
    form.get_by_label("New password", exact=True).fill("erin's own pw")
    form.get_by_label("Repeat new password", exact=True).fill("erin's own pw")
    form.get_by_role("button", name="Set my password").click()
    expect(erin.get_by_text("Your new password is set.").first).to_be_visible()
    wait_idle(erin)
    # the renewed cookie is written by a browser component after that run: wait for it before a new page load
    erin.wait_for_function(f"!document.cookie.includes('{COOKIE}={temporary_cookie['value']}')")
    shows_account(erin, server.url)  # a new page load: the renewed cookie signs in, no form any more
    expect(erin.get_by_role("heading", name="Choose a new password")).to_have_count(0)
    assert shown_exceptions == []
