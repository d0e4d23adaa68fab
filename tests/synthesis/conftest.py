import pytest

from tests.fakes.fixtures import leave_fake_model, use_fake_model


@pytest.fixture(autouse=True)
def no_background_synthesis(monkeypatch):
    """Background refresh off unless a test turns it on: runs must be the ones a test starts."""
    monkeypatch.setenv("HARMONICA_AUTO_SYNTHESIS", "0")


@pytest.fixture
def model_env(db_path, fake_openai, monkeypatch):
    """The app pointed at the fake OpenAI server (no SDK retries: each scripted reply is one request)."""
    yield use_fake_model(monkeypatch, fake_openai, api_key="sk-test-synthesis", timeout_s=5, retries=0)
    leave_fake_model()
