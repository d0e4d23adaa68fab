import pytest


@pytest.fixture(autouse=True)
def no_background_synthesis(monkeypatch):
    """Background refresh off unless a test turns it on: runs must be the ones a test starts."""
    monkeypatch.setenv("HARMONICA_AUTO_SYNTHESIS", "0")
