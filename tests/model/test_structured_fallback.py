"""Structured output on servers that refuse `response_format`: the schema is asked for in words instead."""

from __future__ import annotations

import pytest
from pydantic import BaseModel

from core.llm import LLMClient, LLMOutputError, LLMRequestError, LLMSettings
from tests.model.conftest import CHAT


class Answer(BaseModel):
    title: str
    score: int


def _client(fake) -> tuple[LLMClient, list]:
    records: list = []
    settings = LLMSettings("sk-test", fake.base_url, "m", "m", "m", timeout_s=5, max_retries=0)
    return LLMClient(settings, on_call=records.append), records


def test_refused_response_format_falls_back_to_the_schema_in_words(fake_openai):  # noqa: F811
    client, records = _client(fake_openai)
    fake_openai.script({"status": 400, "message": "response_format is not supported"},
                       {"content": '{"title": "ok", "score": 3}'})
    result = client.structured([{"role": "user", "content": "rate it"}], Answer, purpose="generation",
                               prompt_version="v1")
    assert result == Answer(title="ok", score=3)
    first, second = (r["body"] for r in fake_openai.requests(CHAT))
    assert "response_format" in first and "response_format" not in second
    assert second["messages"][0]["role"] == "system" and '"score"' in second["messages"][0]["content"]
    assert [r.outcome for r in records] == ["bad_request", "ok"]
    client.close()


def test_fallback_still_gets_one_repair_then_fails_clearly(fake_openai):  # noqa: F811
    client, records = _client(fake_openai)
    fake_openai.script({"status": 422}, {"malformed": True}, {"content": '{"title": "x"}'})
    with pytest.raises(LLMOutputError, match="even after one repair attempt"):
        client.structured([{"role": "user", "content": "rate it"}], Answer, purpose="generation",
                          prompt_version="v1")
    assert [r.outcome for r in records] == ["bad_request", "bad_output", "bad_output"]
    assert all("response_format" not in r["body"] for r in fake_openai.requests(CHAT)[1:])
    client.close()


def test_a_request_refused_twice_is_a_clear_request_error(fake_openai):  # noqa: F811
    client, records = _client(fake_openai)
    fake_openai.script({"status": 404, "message": "The model `m` does not exist"},
                       {"status": 404, "message": "The model `m` does not exist"})
    with pytest.raises(LLMRequestError, match="does not exist"):
        client.structured([{"role": "user", "content": "x"}], Answer, purpose="generation", prompt_version="v1")
    assert len(records) == 2
    client.close()
