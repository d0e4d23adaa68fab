"""Model-mode fixtures: the app pointed at the fake OpenAI server (a separate process) via OPENAI_BASE_URL."""

from __future__ import annotations

import json

import pytest

from core import config, modes
from tests.fakes.fake_openai import FakeOpenAI

API_KEY = "sk-test-SECRET-model-mode-0123456789"
CHAT = "/v1/chat/completions"


@pytest.fixture
def model_env(db_path, fake_openai, monkeypatch):  # noqa: F811 - the imported fixture
    """Model mode on the fake server: 1 s timeout, 1 retry; settings re-read after the environment is set."""
    monkeypatch.setenv("OPENAI_BASE_URL", fake_openai.base_url)
    monkeypatch.setenv("OPENAI_API_KEY", API_KEY)
    monkeypatch.setenv("HARMONICA_MODEL", "fake-chat")
    monkeypatch.setenv("HARMONICA_LLM_TIMEOUT", "1")
    monkeypatch.setenv("HARMONICA_LLM_RETRIES", "1")
    config.settings.cache_clear()
    yield fake_openai
    modes.close_clients()
    config.settings.cache_clear()


def bodies(fake: FakeOpenAI) -> list[str]:
    """Every chat request body the fake server received, as JSON text."""
    return [json.dumps(r["body"], ensure_ascii=False) for r in fake.requests(CHAT)]


def guide_json(steps: list[dict], summary: str = "We will talk about your last sprint.") -> str:
    return json.dumps({"steps": steps, "participant_summary": summary})
