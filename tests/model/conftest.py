"""Model-mode fixtures: the app pointed at the fake OpenAI server (a separate process) via OPENAI_BASE_URL."""

from __future__ import annotations

import json

import pytest

from tests.fakes.fake_openai import FakeOpenAI
from tests.fakes.fixtures import leave_fake_model, use_fake_model

API_KEY = "sk-test-SECRET-model-mode-0123456789"
CHAT = "/v1/chat/completions"
TIMEOUT_S = 5
TOO_LATE_S = TIMEOUT_S + 0.6   # a scripted delay that always times out


@pytest.fixture
def model_env(db_path, fake_openai, monkeypatch):
    """Model mode on the fake server: 5 s timeout, 1 retry; settings re-read after the environment is set.

    The timeout is long enough that a healthy reply never times out on a loaded machine (with 1 s, a test's only
    request once timed out before the fake server was scheduled to read it); tests of a timeout script longer."""
    yield use_fake_model(monkeypatch, fake_openai, api_key=API_KEY, timeout_s=TIMEOUT_S, retries=1)
    leave_fake_model()


def bodies(fake: FakeOpenAI) -> list[str]:
    """Every chat request body the fake server received, as JSON text."""
    return [json.dumps(r["body"], ensure_ascii=False) for r in fake.requests(CHAT)]


def guide_json(steps: list[dict], summary: str = "We will talk about your last sprint.") -> str:
    return json.dumps({"steps": steps, "participant_summary": summary})
