import pytest

from core import config, modes


@pytest.fixture(autouse=True)
def no_background_synthesis(monkeypatch):
    """Background refresh off unless a test turns it on: runs must be the ones a test starts."""
    monkeypatch.setenv("HARMONICA_AUTO_SYNTHESIS", "0")


@pytest.fixture
def model_env(db_path, fake_openai, monkeypatch):
    """The app pointed at the fake OpenAI server (no SDK retries: each scripted reply is one request)."""
    monkeypatch.setenv("OPENAI_BASE_URL", fake_openai.base_url)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-synthesis")
    monkeypatch.setenv("HARMONICA_MODEL", "fake-chat")
    monkeypatch.setenv("HARMONICA_LLM_TIMEOUT", "5")
    monkeypatch.setenv("HARMONICA_LLM_RETRIES", "0")
    config.settings.cache_clear()
    yield fake_openai
    modes.close_clients()
    config.settings.cache_clear()
