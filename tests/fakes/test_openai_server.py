"""The fake OpenAI server, tested over plain HTTP (independent of core.llm)."""

from __future__ import annotations

import base64
import http.client
import json
import math
import re
import struct
import time
from datetime import datetime
from enum import Enum
from typing import Any, Literal
from urllib.parse import urlsplit

import pytest
from pydantic import BaseModel, Field

from tests.fakes.fake_openai import FakeOpenAI
from tests.fakes.openai_server import EMBEDDING_DIMS, example_from_schema

CHAT = "/v1/chat/completions"


def _request(
    fake: FakeOpenAI, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], bytes]:
    url = urlsplit(fake.base_url)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=5)
    try:
        data = None if body is None else json.dumps(body).encode()
        conn.request(method, path, body=data, headers={"content-type": "application/json", **(headers or {})})
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


def _chat(fake: FakeOpenAI, **body: Any) -> tuple[int, dict[str, str], bytes]:
    body.setdefault("model", "m")
    body.setdefault("messages", [{"role": "user", "content": "hello fake server"}])
    return _request(fake, "POST", CHAT, body)


def _sse_events(raw: bytes) -> list[str]:
    return [line[len("data: ") :] for line in raw.decode().splitlines() if line.startswith("data: ")]


def _content_of(raw: bytes) -> str:
    return json.loads(raw)["choices"][0]["message"]["content"]


# ------------------------------------------------------------------ process and control


def test_starts_prints_listening_and_stops() -> None:
    fake = FakeOpenAI().start()
    proc = fake._proc
    try:
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+/v1", fake.base_url)
        status, _, body = _request(fake, "GET", "/v1/models")
        assert status == 200
        assert [m["id"] for m in json.loads(body)["data"]]
    finally:
        fake.stop()
    assert proc is not None and proc.poll() is not None


def test_requests_are_logged_without_authorization_and_reset_clears(fake_openai: FakeOpenAI) -> None:
    _request(
        fake_openai,
        "POST",
        CHAT,
        {"model": "m", "messages": [{"role": "user", "content": "hi"}]},
        headers={"Authorization": "Bearer sk-very-secret", "X-Trace": "t1"},
    )
    log = fake_openai.requests()
    assert len(log) == 1
    assert log[0]["path"] == CHAT and log[0]["method"] == "POST"
    assert log[0]["body"]["messages"][0]["content"] == "hi"
    assert log[0]["headers"]["x-trace"] == "t1"
    assert "authorization" not in log[0]["headers"]
    assert "sk-very-secret" not in json.dumps(log)

    fake_openai.script({"content": "queued"})
    fake_openai.reset()
    assert fake_openai.requests() == []
    assert _content_of(_chat(fake_openai)[2]).startswith("Fake reply to:")


# ------------------------------------------------------------------ chat completions


def test_default_reply_echoes_start_of_last_user_message_with_usage(fake_openai: FakeOpenAI) -> None:
    long_text = "one two three four five six seven eight nine ten eleven"
    status, headers, raw = _chat(
        fake_openai,
        messages=[
            {"role": "system", "content": "be brief"},
            {"role": "user", "content": "earlier"},
            {"role": "assistant", "content": "ok"},
            {"role": "user", "content": long_text},
        ],
    )
    assert status == 200 and headers["content-type"] == "application/json"
    payload = json.loads(raw)
    assert payload["object"] == "chat.completion"
    assert payload["choices"][0]["finish_reason"] == "stop"
    assert _content_of(raw) == f"Fake reply to: {long_text[:40]}"
    usage = payload["usage"]
    assert usage["prompt_tokens"] == 2 + 1 + 1 + 11
    assert usage["completion_tokens"] > 0
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]


def test_scripted_replies_are_answered_in_order(fake_openai: FakeOpenAI) -> None:
    fake_openai.script({"content": "first"}, {"content": "second"})
    fake_openai.script({"content": "third"})
    replies = [_content_of(_chat(fake_openai)[2]) for _ in range(4)]
    assert replies[:3] == ["first", "second", "third"]
    assert replies[3].startswith("Fake reply to:")


def test_streaming_sends_chunks_usage_and_done(fake_openai: FakeOpenAI) -> None:
    text = "alpha beta gamma delta epsilon zeta eta theta"
    fake_openai.script({"content": text})
    status, headers, raw = _chat(fake_openai, stream=True, stream_options={"include_usage": True})
    assert status == 200 and headers["content-type"] == "text/event-stream"
    events = _sse_events(raw)
    assert events[-1] == "[DONE]"
    chunks = [json.loads(e) for e in events[:-1]]
    deltas = [c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"]]
    assert "".join(deltas) == text
    assert sum(1 for d in deltas if d) > 1, "text should arrive in several chunks"
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"]["completion_tokens"] == 8
    assert any(c["choices"] and c["choices"][0]["finish_reason"] == "stop" for c in chunks)


def test_streaming_without_include_usage_sends_no_usage(fake_openai: FakeOpenAI) -> None:
    _, _, raw = _chat(fake_openai, stream=True)
    chunks = [json.loads(e) for e in _sse_events(raw)[:-1]]
    assert all("usage" not in c for c in chunks)
    assert all(c["choices"] for c in chunks)


def test_cut_stream_ends_without_done(fake_openai: FakeOpenAI) -> None:
    fake_openai.script({"cut_stream": True, "content": "a b c d e f g h"})
    url = urlsplit(fake_openai.base_url)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=5)
    body = {"model": "m", "messages": [{"role": "user", "content": "x"}], "stream": True}
    conn.request("POST", CHAT, body=json.dumps(body), headers={"content-type": "application/json"})
    response = conn.getresponse()
    with pytest.raises(http.client.IncompleteRead) as info:
        response.read()
    conn.close()
    events = _sse_events(info.value.partial)
    assert events and "[DONE]" not in events
    text = "".join(json.loads(e)["choices"][0]["delta"].get("content") or "" for e in events)
    assert text and "a b c d e f g h".startswith(text) and text != "a b c d e f g h"


def test_graceful_cut_stream_ends_the_body_without_done(fake_openai: FakeOpenAI) -> None:
    fake_openai.script({"cut_stream": "graceful", "content": "a b c d e f g h"})
    status, _, raw = _chat(fake_openai, stream=True)
    events = _sse_events(raw)
    assert status == 200 and events and "[DONE]" not in events


@pytest.mark.parametrize("status", [500, 503, 429, 400])
def test_scripted_status_returns_openai_error_body(fake_openai: FakeOpenAI, status: int) -> None:
    fake_openai.script({"status": status})
    got, headers, raw = _chat(fake_openai)
    assert got == status
    error = json.loads(raw)["error"]
    assert error["message"] and "type" in error
    assert (headers.get("retry-after") == "0") == (status == 429)


def test_scripted_error_message(fake_openai: FakeOpenAI) -> None:
    fake_openai.script({"status": 404, "message": "model nope not found"})
    assert json.loads(_chat(fake_openai)[2])["error"]["message"] == "model nope not found"


def test_malformed_empty_and_raw_replies(fake_openai: FakeOpenAI) -> None:
    fake_openai.script({"malformed": True}, {"empty": True}, {"raw": "<html>oops"})
    assert _content_of(_chat(fake_openai)[2]) == "{not json"
    assert _content_of(_chat(fake_openai)[2]) == ""
    status, _, raw = _chat(fake_openai)
    assert status == 200 and raw == b"<html>oops"


def test_delay_is_applied(fake_openai: FakeOpenAI) -> None:
    fake_openai.script({"delay": 0.3, "content": "late"})
    started = time.perf_counter()
    assert _content_of(_chat(fake_openai)[2]) == "late"
    assert time.perf_counter() - started >= 0.3


def test_matched_replies_go_to_the_request_that_contains_their_text(fake_openai: FakeOpenAI) -> None:
    fake_openai.script({"match": "about cats", "content": "cats"}, {"content": "anything"},
                       {"match": "about dogs", "content": "dogs"})
    ask = lambda text: _content_of(_chat(fake_openai, messages=[{"role": "user", "content": text}])[2])  # noqa: E731
    assert ask("tell me about dogs") == "dogs"         # a matching reply comes before one without a match
    assert ask("tell me about birds") == "anything"    # the first reply without a match
    assert ask("tell me about cats") == "cats"
    assert ask("tell me about cats").startswith("Fake reply to:")   # the queue is empty


def test_default_delay_and_the_most_requests_in_flight() -> None:
    import threading

    with FakeOpenAI(delay=0.3) as fake:
        threads = [threading.Thread(target=_chat, args=(fake,)) for _ in range(3)]
        started = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert time.perf_counter() - started >= 0.3        # every reply waited for the default delay
        assert 1 <= fake.max_in_flight() <= 3              # how many overlapped depends on the machine's load
        fake.reset()
        fake.script({"delay": 0, "content": "quick"})    # a scripted delay overrides the default
        assert _content_of(_chat(fake)[2]) == "quick"


# ------------------------------------------------------------------ json schema replies


class Mood(str, Enum):
    calm = "calm"
    tense = "tense"


class Quote(BaseModel):
    text: str = Field(min_length=10)
    author: str | None
    at: datetime


class Node(BaseModel):
    name: str
    children: list[Node]


class Report(BaseModel):
    title: str
    score: int = Field(ge=3, le=9)
    ratio: float = Field(gt=0.5)
    mood: Mood
    kind: Literal["summary", "detail"]
    quotes: list[Quote]
    pair: tuple[int, str]
    tags: dict[str, int]
    tree: Node
    optional_note: str = "unset"


def test_example_from_schema_is_valid_for_pydantic_models() -> None:
    value = example_from_schema(Report.model_json_schema())
    report = Report.model_validate(value)  # raises if the instance is not valid
    assert report.title == "example"
    assert report.score == 3
    assert report.mood is Mood.calm and report.kind == "summary"
    assert len(report.quotes) == 1 and len(report.quotes[0].text) >= 10
    assert "optional_note" not in value, "only required properties"


def test_json_schema_request_gets_a_valid_instance(fake_openai: FakeOpenAI) -> None:
    response_format = {
        "type": "json_schema",
        "json_schema": {"name": "Report", "schema": Report.model_json_schema(), "strict": False},
    }
    _, _, raw = _chat(fake_openai, response_format=response_format)
    Report.model_validate_json(_content_of(raw))


# ------------------------------------------------------------------ embeddings


def test_embeddings_are_deterministic_normalised_and_64_dims(fake_openai: FakeOpenAI) -> None:
    inputs = ["the cat sat", "the cat sat", "stock markets fell sharply", ""]
    status, _, raw = _request(fake_openai, "POST", "/v1/embeddings", {"model": "e", "input": inputs})
    assert status == 200
    payload = json.loads(raw)
    vectors = [d["embedding"] for d in sorted(payload["data"], key=lambda d: d["index"])]
    assert len(vectors) == 4 and all(len(v) == EMBEDDING_DIMS for v in vectors)
    assert all(math.isclose(math.hypot(*v), 1.0, rel_tol=1e-9) for v in vectors)
    assert vectors[0] == vectors[1] and vectors[0] != vectors[2]
    assert payload["usage"]["prompt_tokens"] == 3 + 3 + 4


def test_embeddings_support_base64_and_single_string(fake_openai: FakeOpenAI) -> None:
    plain = json.loads(_request(fake_openai, "POST", "/v1/embeddings", {"model": "e", "input": "hi there"})[2])
    encoded = json.loads(
        _request(fake_openai, "POST", "/v1/embeddings",
                 {"model": "e", "input": "hi there", "encoding_format": "base64"})[2]
    )
    decoded = struct.unpack(f"<{EMBEDDING_DIMS}f", base64.b64decode(encoded["data"][0]["embedding"]))
    assert len(plain["data"]) == 1
    assert all(math.isclose(a, b, abs_tol=1e-6) for a, b in zip(decoded, plain["data"][0]["embedding"]))
