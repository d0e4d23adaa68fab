"""Servers for the browser journeys: a real Streamlit server per module (or per test).

The browser itself (`browser`, `new_page`, screenshots on failure) comes from tests/browser.py.
"""

from __future__ import annotations

import pytest

from tests.browser import require_browser
from tests.e2e import harness


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A server on an empty database, shared by the tests of one module."""
    require_browser()  # no point starting a server that no browser will visit
    # The results refresh by themselves shortly after a participant finishes (default debounce: 20 s).
    srv = harness.start_server(tmp_path_factory.mktemp("e2e_server"), {"HARMONICA_SYNTHESIS_DELAY": "1"})
    yield srv
    srv.stop()


@pytest.fixture
def seeded_server(tmp_path_factory):
    """A FRESH server (nobody has opened any page yet) on a database holding the demo session.

    The demo is seeded before the server starts: DuckDB lets only one process open the file.
    Yields (server, demo).
    """
    require_browser()
    workdir = tmp_path_factory.mktemp("e2e_seeded")
    demo = harness.seed_demo(workdir, participants=8)
    srv = harness.start_server(workdir)
    yield srv, demo
    srv.stop()
