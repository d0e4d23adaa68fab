"""Browser fixtures shared by every folder of tests: one Playwright driver and one Chromium per test run.

Playwright's sync API allows one driver per thread, so every browser test takes `browser` / `new_page`
from here (tests/conftest.py imports them) instead of starting its own.
Without Playwright or Chromium the tests are skipped locally and fail in CI (env CI set).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.e2e import harness


def require_browser() -> None:
    reason = harness.missing_browser()
    if reason:
        if os.environ.get("CI"):
            pytest.fail(f"browser tests need a browser in CI: {reason}", pytrace=False)
        pytest.skip(reason)


@pytest.fixture(scope="session")
def playwright_driver():
    require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright_driver):
    chromium = harness.launch_browser(playwright_driver)
    yield chromium
    chromium.close()


@pytest.fixture
def pages():
    """The pages a test opened (through `new_page`); on failure each is saved as a screenshot."""
    return []


@pytest.fixture
def shown_exceptions():
    """Every exception box any page of the test showed, even for an instant ("path: message")."""
    return []


@pytest.fixture
def new_page(browser, pages, shown_exceptions):
    """`new_page()` opens a page in a new browser context (its own cookies: a separate visitor)."""
    contexts = []

    def open_page():
        context = harness.new_context(browser, shown_exceptions)
        contexts.append(context)
        page = context.new_page()
        pages.append(page)
        return page

    yield open_page
    for context in contexts:
        context.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """On failure: attach the server log and full-page screenshots of the test's pages to the report.

    Set E2E_SCREENSHOTS=<folder> to keep screenshots of passing tests too.
    """
    outcome = yield
    report = outcome.get_result()
    keep = os.environ.get("E2E_SCREENSHOTS")
    if report.when != "call" or not (report.failed or keep):
        return
    servers = []
    for value in getattr(item, "funcargs", {}).values():
        candidates = value if isinstance(value, tuple) else (value,)
        servers += [v for v in candidates if isinstance(v, harness.Server)]
    if report.failed:
        for srv in servers:
            report.sections.append((f"server log ({srv.url})", srv.log_tail()))
    folder = Path(keep) if keep else (servers[0].workdir if servers else None)
    if folder is None:
        return
    folder.mkdir(parents=True, exist_ok=True)
    saved = []
    for i, page in enumerate(item.funcargs.get("pages") or []):
        path = folder / f"{'failure_' if report.failed else ''}{item.name}_{i}.png"
        try:
            page.screenshot(path=str(path), full_page=True)
            saved.append(f"{path}  ({page.url})")
        except Exception as exc:  # the page or its context may be closed already
            saved.append(f"page {i}: no screenshot ({exc.__class__.__name__})")
    if saved:
        report.sections.append(("screenshots", "\n".join(saved)))
