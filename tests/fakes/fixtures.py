"""Pytest fixture for the fake OpenAI server.

tests/conftest.py makes it available to every test as the `fake_openai` fixture.
"""

from __future__ import annotations

import atexit
import threading
from collections.abc import Iterator

import pytest

from tests.fakes.fake_openai import FakeOpenAI

_lock = threading.Lock()
_server: FakeOpenAI | None = None


def _shared_server() -> FakeOpenAI:
    # One process per test session, started on first use. A module-level singleton
    # instead of a session fixture, so importing `fake_openai` alone is enough
    # (a session fixture it depended on would also have to be imported).
    global _server
    with _lock:
        if _server is None:
            _server = FakeOpenAI().start()
            atexit.register(_server.stop)
        return _server


@pytest.fixture
def fake_openai() -> Iterator[FakeOpenAI]:
    """The shared fake server, with an empty reply queue and request log."""
    server = _shared_server()
    server.reset()
    yield server


def use_fake_model(monkeypatch, fake: FakeOpenAI, *, api_key: str, timeout_s: float, retries: int):
    """Point the app's configuration at the fake server (settings are re-read); undo with `leave_fake_model`."""
    from core import config

    monkeypatch.setenv("OPENAI_BASE_URL", fake.base_url)
    monkeypatch.setenv("OPENAI_API_KEY", api_key)
    monkeypatch.setenv("HARMONICA_MODEL", "fake-chat")
    monkeypatch.setenv("HARMONICA_LLM_TIMEOUT", str(timeout_s))
    monkeypatch.setenv("HARMONICA_LLM_RETRIES", str(retries))
    config.settings.cache_clear()
    return fake


def leave_fake_model() -> None:
    from core import config, modes

    modes.close_clients()
    config.settings.cache_clear()
