"""LLMClient against the fake OpenAI server running as a real HTTP subprocess."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, Field

from core.llm import (
    CallRecord,
    Embedder,
    LLMClient,
    LLMConnectionError,
    LLMError,
    LLMOutputError,
    LLMRateLimited,
    LLMRequestError,
    LLMServerError,
    LLMSettings,
    LLMTimeout,
    TextModel,
)
from tests.fakes.fake_openai import FakeOpenAI, closed_port_url

API_KEY = "sk-test-SECRET-0123456789abcdef"
CHAT = "/v1/chat/completions"
USER = [{"role": "user", "content": "one two three"}]
REPO = Path(__file__).resolve().parents[2]

MakeClient = Callable[..., tuple[LLMClient, list[CallRecord]]]


def _settings(base_url: str | None, **overrides: Any) -> LLMSettings:
    values: dict[str, Any] = {
        "api_key": API_KEY,
        "base_url": base_url,
        "model_facilitation": "model-facilitation",
        "model_generation": "model-generation",
        "model_synthesis": "model-synthesis",
        "timeout_s": 5.0,
        "max_retries": 0,
    }
    values.update(overrides)
    return LLMSettings(**values)


@pytest.fixture
def make_client(fake_openai: FakeOpenAI) -> Iterator[MakeClient]:  # noqa: F811 - the imported fixture
    """Factory: a client on the fake server (or `base_url=`) plus the list its CallRecords go to."""
    clients: list[LLMClient] = []

    def make(**overrides: Any) -> tuple[LLMClient, list[CallRecord]]:
        records: list[CallRecord] = []
        base_url = overrides.pop("base_url", fake_openai.base_url)
        client = LLMClient(_settings(base_url, **overrides), on_call=records.append)
        clients.append(client)
        return client, records

    yield make
    for client in clients:
        client.close()


class Theme(BaseModel):
    title: str
    mentions: int = Field(ge=1)


class Themes(BaseModel):
    themes: list[Theme]
    summary: str


VALID_THEMES = '{"themes": [{"title": "Parking", "mentions": 3}], "summary": "People want parking."}'


# ------------------------------------------------------------------ success paths


def test_complete_returns_text_and_records_usage(make_client: MakeClient, fake_openai: FakeOpenAI) -> None:
    client, records = make_client()
    fake_openai.script({"content": "Thanks for sharing that."})

    text = client.complete(USER, purpose="facilitation.turn", prompt_version="turn-v3")

    assert text == "Thanks for sharing that."
    [record] = records
    assert record.outcome == "ok" and record.error is None
    assert (record.purpose, record.prompt_version, record.model) == ("facilitation.turn", "turn-v3",
                                                                      "model-facilitation")
    assert (record.input_tokens, record.output_tokens) == (3, 4)
    assert record.endpoint_host == fake_openai.base_url.split("//")[1].split("/")[0]
    assert record.latency_ms >= 0
    [request] = fake_openai.requests(CHAT)
    assert request["body"]["model"] == "model-facilitation"
    assert request["body"]["messages"] == USER
    assert "temperature" not in request["body"]


def test_complete_model_follows_purpose_and_passes_temperature(
    make_client: MakeClient, fake_openai: FakeOpenAI
) -> None:
    client, _ = make_client()
    client.complete(USER, purpose="synthesis.summary", prompt_version="v1", temperature=0.2)
    client.complete(USER, purpose="generation", prompt_version="v1", model="explicit-model")
    first, second = fake_openai.requests(CHAT)
    assert first["body"]["model"] == "model-synthesis" and first["body"]["temperature"] == 0.2
    assert second["body"]["model"] == "explicit-model"


def test_stream_assembles_scripted_text_and_records_usage(make_client: MakeClient, fake_openai: FakeOpenAI) -> None:
    client, records = make_client()
    text = "What matters most to you about the new park design?"
    fake_openai.script({"content": text})

    deltas = list(client.stream(USER, purpose="facilitation", prompt_version="v2"))

    assert "".join(deltas) == text
    assert len(deltas) > 1
    [record] = records
    assert record.outcome == "ok"
    assert (record.input_tokens, record.output_tokens) == (3, 10)
    [request] = fake_openai.requests(CHAT)
    assert request["body"]["stream"] is True
    assert request["body"]["stream_options"] == {"include_usage": True}


def test_stream_records_nothing_until_iterated_and_cancelled_when_abandoned(
    make_client: MakeClient, fake_openai: FakeOpenAI
) -> None:
    client, records = make_client()
    fake_openai.script({"content": "a b c d e f g h"})
    deltas = client.stream(USER, purpose="facilitation", prompt_version="v1")
    assert records == [] and fake_openai.requests(CHAT) == []
    next(deltas)
    deltas.close()
    assert [r.outcome for r in records] == ["cancelled"]


def test_structured_valid_on_first_try(make_client: MakeClient, fake_openai: FakeOpenAI) -> None:
    client, records = make_client()
    fake_openai.script({"content": VALID_THEMES})

    result = client.structured(USER, Themes, purpose="synthesis.themes", prompt_version="themes-v1")

    assert result == Themes(themes=[Theme(title="Parking", mentions=3)], summary="People want parking.")
    [request] = fake_openai.requests(CHAT)
    fmt = request["body"]["response_format"]
    assert fmt["type"] == "json_schema"
    assert fmt["json_schema"] == {"name": "Themes", "schema": Themes.model_json_schema(), "strict": False}
    assert [(r.outcome, r.attempt) for r in records] == [("ok", 1)]


def test_structured_uses_schema_instance_when_nothing_scripted(make_client: MakeClient) -> None:
    client, _ = make_client()
    result = client.structured(USER, Themes, purpose="synthesis", prompt_version="v1")
    assert isinstance(result, Themes) and len(result.themes) == 1


def test_structured_accepts_json_in_a_code_fence(make_client: MakeClient, fake_openai: FakeOpenAI) -> None:
    client, _ = make_client()
    fake_openai.script({"content": f"```json\n{VALID_THEMES}\n```"})
    assert client.structured(USER, Themes, purpose="synthesis", prompt_version="v1").summary


def test_structured_repairs_once_after_malformed_reply(make_client: MakeClient, fake_openai: FakeOpenAI) -> None:
    client, records = make_client()
    fake_openai.script({"malformed": True}, {"content": VALID_THEMES})

    result = client.structured(USER, Themes, purpose="synthesis", prompt_version="v1")

    assert result.themes[0].title == "Parking"
    first, second = fake_openai.requests(CHAT)
    repair = second["body"]["messages"]
    assert repair[: len(USER)] == USER
    assert repair[-2] == {"role": "assistant", "content": "{not json"}
    assert repair[-1]["role"] == "user" and "Invalid JSON" in repair[-1]["content"]
    assert second["body"]["response_format"] == first["body"]["response_format"]
    assert [(r.outcome, r.attempt) for r in records] == [("bad_output", 1), ("ok", 2)]
    assert "Invalid JSON" in (records[0].error or "")


def test_structured_repair_prompt_names_the_failing_field(make_client: MakeClient, fake_openai: FakeOpenAI) -> None:
    client, _ = make_client()
    fake_openai.script(
        {"content": '{"themes": [{"title": "Parking", "mentions": 0}], "summary": "x"}'},
        {"content": VALID_THEMES},
    )
    client.structured(USER, Themes, purpose="synthesis", prompt_version="v1")
    repair_text = fake_openai.requests(CHAT)[1]["body"]["messages"][-1]["content"]
    assert "themes.0.mentions" in repair_text and "greater than or equal to 1" in repair_text


def test_structured_gives_up_after_two_bad_replies(make_client: MakeClient, fake_openai: FakeOpenAI) -> None:
    client, records = make_client()
    fake_openai.script({"malformed": True}, {"content": '{"themes": "not a list"}'})

    with pytest.raises(LLMOutputError, match="repair attempt") as info:
        client.structured(USER, Themes, purpose="synthesis", prompt_version="v1")

    assert type(info.value) is LLMOutputError
    assert "summary" in str(info.value)  # the second reply's validation error, for whoever reads the log
    assert len(fake_openai.requests(CHAT)) == 2, "exactly one repair request"
    assert [(r.outcome, r.attempt) for r in records] == [("bad_output", 1), ("bad_output", 2)]


def test_embed_returns_one_vector_per_text(make_client: MakeClient, fake_openai: FakeOpenAI) -> None:
    client, records = make_client()
    texts = ["parking is hard", "more trees please", "parking is hard"]

    vectors = client.embed(texts, purpose="synthesis.embed")

    assert len(vectors) == 3 and all(len(v) == 64 for v in vectors)
    assert vectors[0] == vectors[2] and vectors[0] != vectors[1]
    [record] = records
    assert (record.outcome, record.input_tokens, record.model) == ("ok", 9, "text-embedding-3-small")
    [request] = fake_openai.requests("/v1/embeddings")
    assert request["body"]["input"] == texts
    assert client.embed([], purpose="x") == [] and len(records) == 1


def test_ping_reports_host_and_model(make_client: MakeClient, fake_openai: FakeOpenAI) -> None:
    client, records = make_client()
    message = client.ping()
    assert "model-facilitation" in message and records[0].endpoint_host in message
    assert records[0].purpose == "ping"


# ------------------------------------------------------------------ failures


def test_timeout_raises_llm_timeout(make_client: MakeClient, fake_openai: FakeOpenAI) -> None:
    client, records = make_client(timeout_s=0.2)
    fake_openai.script({"delay": 1.0, "content": "too late"})

    started = time.perf_counter()
    with pytest.raises(LLMTimeout, match="0.2 s"):
        client.complete(USER, purpose="facilitation", prompt_version="v1")

    assert time.perf_counter() - started < 0.9
    [record] = records
    assert record.outcome == "timeout" and record.error


@pytest.mark.parametrize(
    ("status", "error", "outcome"),
    [(500, LLMServerError, "server_error"), (503, LLMServerError, "server_error"), (429, LLMRateLimited, "rate_limit")],
)
def test_http_errors_map_to_llm_errors(
    make_client: MakeClient, fake_openai: FakeOpenAI, status: int, error: type[LLMError], outcome: str
) -> None:
    client, records = make_client()
    fake_openai.script({"status": status})
    with pytest.raises(error):
        client.complete(USER, purpose="facilitation", prompt_version="v1")
    assert [r.outcome for r in records] == [outcome]
    assert len(fake_openai.requests(CHAT)) == 1


def test_http_errors_while_streaming(make_client: MakeClient, fake_openai: FakeOpenAI) -> None:
    client, records = make_client()
    fake_openai.script({"status": 500})
    with pytest.raises(LLMServerError):
        list(client.stream(USER, purpose="facilitation", prompt_version="v1"))
    assert [r.outcome for r in records] == ["server_error"]


@pytest.mark.parametrize("cut", [True, "graceful"])
def test_cut_stream_raises_after_partial_text(make_client: MakeClient, fake_openai: FakeOpenAI, cut: object) -> None:
    client, records = make_client()
    text = "one two three four five six seven eight"
    fake_openai.script({"cut_stream": cut, "content": text})

    received: list[str] = []
    with pytest.raises(LLMConnectionError, match="before the reply was complete"):
        for delta in client.stream(USER, purpose="facilitation", prompt_version="v1"):
            received.append(delta)

    assert received and text.startswith("".join(received)) and "".join(received) != text
    assert [r.outcome for r in records] == ["connection"]


@pytest.mark.parametrize("streaming", [False, True])
def test_empty_reply_raises(make_client: MakeClient, fake_openai: FakeOpenAI, streaming: bool) -> None:
    client, records = make_client()
    fake_openai.script({"empty": True})
    with pytest.raises(LLMOutputError, match="empty"):
        if streaming:
            list(client.stream(USER, purpose="facilitation", prompt_version="v1"))
        else:
            client.complete(USER, purpose="facilitation", prompt_version="v1")
    assert [r.outcome for r in records] == ["bad_output"]


def test_unreadable_response_body_raises_output_error(make_client: MakeClient, fake_openai: FakeOpenAI) -> None:
    client, records = make_client()
    fake_openai.script({"raw": "<html>proxy error</html>"})
    with pytest.raises(LLMOutputError):
        client.complete(USER, purpose="facilitation", prompt_version="v1")
    assert [r.outcome for r in records] == ["bad_output"]


def test_connection_refused_raises_connection_error(make_client: MakeClient) -> None:
    client, records = make_client(base_url=closed_port_url())
    with pytest.raises(LLMConnectionError, match="Could not reach"):
        client.complete(USER, purpose="facilitation", prompt_version="v1")
    with pytest.raises(LLMConnectionError):
        client.ping()
    assert [r.outcome for r in records] == ["connection", "connection"]


def test_unknown_model_is_a_request_error(make_client: MakeClient, fake_openai: FakeOpenAI) -> None:
    client, records = make_client()
    fake_openai.script({"status": 404, "message": "The model `nope` does not exist"})
    with pytest.raises(LLMRequestError, match="does not exist"):
        client.complete(USER, purpose="facilitation", prompt_version="v1", model="nope")
    assert records[0].outcome == "bad_request"


def test_api_key_never_appears_in_records_or_errors(make_client: MakeClient, fake_openai: FakeOpenAI) -> None:
    client, records = make_client(timeout_s=0.2)
    texts: list[str] = [repr(client.settings), str(client.settings)]
    fake_openai.script(
        {"status": 401, "message": f"Incorrect API key provided: {API_KEY}"},
        {"status": 400, "message": f"Bad key {API_KEY} and {API_KEY[:12]}****cdef"},
        {"status": 500, "message": API_KEY},
        {"status": 429},
        {"delay": 1.0},
        {"cut_stream": True, "content": "a b c d e f"},
        {"malformed": True},
        {"malformed": True},
    )
    calls = [
        lambda: client.complete(USER, purpose="facilitation", prompt_version="v1"),
        lambda: client.complete(USER, purpose="facilitation", prompt_version="v1"),
        lambda: client.complete(USER, purpose="facilitation", prompt_version="v1"),
        lambda: client.complete(USER, purpose="facilitation", prompt_version="v1"),
        lambda: client.complete(USER, purpose="facilitation", prompt_version="v1"),
        lambda: list(client.stream(USER, purpose="facilitation", prompt_version="v1")),
        lambda: client.structured(USER, Themes, purpose="synthesis", prompt_version="v1"),
    ]
    for call in calls:
        with pytest.raises(LLMError) as info:
            call()
        texts += [str(info.value), repr(info.value), str(info.value.__cause__)]
    texts += [repr(r) for r in records]

    assert len(records) == 8
    other_key = "gsk_localtoken_987654321"  # no "sk-" prefix: only exact redaction catches it
    other, other_records = make_client(api_key=other_key)
    fake_openai.script({"status": 400, "message": f"Key {other_key} is not allowed"})
    with pytest.raises(LLMRequestError) as info:
        other.complete(USER, purpose="facilitation", prompt_version="v1")
    assert other_key not in str(info.value) and other_key not in repr(other_records)
    leaks = [t for t in texts if API_KEY in t or API_KEY[:12] in t]
    assert leaks == []
    assert "SECRET" not in json.dumps(texts)


# ------------------------------------------------------------------ wiring


def test_every_call_records_exactly_once_even_if_on_call_fails(fake_openai: FakeOpenAI) -> None:  # noqa: F811
    calls: list[CallRecord] = []

    def broken_log(record: CallRecord) -> None:
        calls.append(record)
        raise RuntimeError("database is locked")

    with LLMClient(_settings(fake_openai.base_url), on_call=broken_log) as client:
        assert client.complete(USER, purpose="facilitation", prompt_version="v1")
    assert len(calls) == 1


def test_settings_and_protocols() -> None:
    settings = _settings("http://user:pw@localhost:11434/v1", api_key=None)
    assert settings.configured and settings.endpoint_host == "localhost:11434"
    assert _settings(None).endpoint_host == "api.openai.com"
    assert not _settings(None, api_key=None).configured
    assert settings.model_for("facilitation.turn") == "model-facilitation"
    assert settings.model_for("synthesis_themes") == "model-synthesis"
    with pytest.raises(ValueError, match="purpose"):
        settings.model_for("chat")
    with pytest.raises(LLMError, match="configured"):
        LLMClient(_settings(None, api_key=None))
    with LLMClient(settings) as client:
        assert isinstance(client, TextModel) and isinstance(client, Embedder)


def test_importing_the_interface_does_not_import_openai() -> None:
    code = ("import sys, core.llm; assert 'openai' not in sys.modules; core.llm.LLMClient; "
            "assert 'openai' in sys.modules")
    subprocess.run([sys.executable, "-c", code], cwd=REPO, check=True)


def test_every_call_asks_for_a_token_cap_fit_for_its_purpose(make_client: MakeClient, fake_openai: FakeOpenAI) -> None:
    client, _ = make_client()
    fake_openai.script({"content": "A question?"}, {"content": "A guide."})
    list(client.stream(USER, purpose="facilitation", prompt_version="v1"))
    client.complete(USER, purpose="generation.guide", prompt_version="v1")
    caps = [r["body"]["max_tokens"] for r in fake_openai.requests(CHAT)]
    assert caps == [400, 4000]


def test_a_reply_that_runs_on_is_cut_at_its_cap_and_is_not_a_reply(make_client: MakeClient,
                                                                   fake_openai: FakeOpenAI) -> None:
    client, records = make_client()
    fake_openai.script({"endless": True, "chunk_delay": 0})
    with pytest.raises(LLMOutputError, match="ran past 400 tokens"):
        list(client.stream(USER, purpose="facilitation", prompt_version="v1"))
    [record] = records
    assert record.outcome == "bad_output"


def test_a_stream_that_ignores_the_cap_is_cut_at_the_deadline(make_client: MakeClient,
                                                              fake_openai: FakeOpenAI) -> None:
    client, records = make_client(stream_deadline_s=1.0)
    fake_openai.script({"endless": True, "ignore_max_tokens": True, "chunk_delay": 0.02})
    got: list[str] = []
    with pytest.raises(LLMTimeout, match="still writing after 1 s"):
        for delta in client.stream(USER, purpose="facilitation", prompt_version="v1"):
            got.append(delta)
    assert got                                       # it was streaming: the deadline, not silence, ended it
    [record] = records
    assert record.outcome == "timeout"


def test_a_silent_stream_fails_at_the_first_token_wait_and_the_sdk_does_not_retry_it(
        make_client: MakeClient, fake_openai: FakeOpenAI) -> None:
    client, records = make_client(first_token_s=0.3, timeout_s=5.0, max_retries=2)
    fake_openai.script({"delay": 2.0, "content": "too late"}, {"content": "a retry the SDK must not make"})
    with pytest.raises(LLMTimeout):
        list(client.stream(USER, purpose="facilitation", prompt_version="v1"))
    assert len(fake_openai.requests(CHAT)) == 1       # one HTTP attempt: the caller decides about retries
    assert [r.outcome for r in records] == ["timeout"]


# ------------------------------------------------------------------ retries, Retry-After, servers' quirks (issue 10)


@pytest.fixture
def pauses(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The pauses the client makes between tries, recorded instead of slept."""
    from core.llm import client as client_module

    waits: list[float] = []
    monkeypatch.setattr(client_module, "_sleep", waits.append)
    return waits


def test_retries_are_ours_with_one_record_per_http_attempt(make_client: MakeClient, fake_openai: FakeOpenAI,
                                                          pauses: list[float]) -> None:
    client, records = make_client(max_retries=1)
    fake_openai.script({"status": 429}, {"content": "after retry"})
    assert client.complete(USER, purpose="facilitation", prompt_version="v1") == "after retry"
    assert len(fake_openai.requests(CHAT)) == 2
    assert [r.outcome for r in records] == ["rate_limit", "ok"]     # every HTTP request is a row


def test_retry_after_is_honoured_and_a_long_one_is_an_error(make_client: MakeClient, fake_openai: FakeOpenAI,
                                                            pauses: list[float]) -> None:
    client, records = make_client(max_retries=2)
    fake_openai.script({"status": 429, "retry_after": 2}, {"status": 503, "retry_after": 1}, {"content": "ok"})
    assert client.complete(USER, purpose="synthesis", prompt_version="v1") == "ok"
    assert pauses == [2.0, 1.0]
    assert [r.outcome for r in records] == ["rate_limit", "server_error", "ok"]
    fake_openai.script({"status": 429, "retry_after": 120})
    with pytest.raises(LLMRateLimited):
        client.complete(USER, purpose="synthesis", prompt_version="v1")
    assert pauses == [2.0, 1.0]          # nobody waits two minutes inside a call


def test_a_timeout_is_not_retried(make_client: MakeClient, fake_openai: FakeOpenAI, pauses: list[float]) -> None:
    client, records = make_client(timeout_s=0.3, max_retries=2)
    fake_openai.script({"delay": 1.0, "content": "late"}, {"content": "a retry that must not happen"})
    with pytest.raises(LLMTimeout):
        client.complete(USER, purpose="synthesis", prompt_version="v1")
    assert [r.outcome for r in records] == ["timeout"] and pauses == []


def test_a_500_on_response_format_falls_back_to_the_schema_in_words_and_is_remembered(
        make_client: MakeClient, fake_openai: FakeOpenAI, pauses: list[float]) -> None:
    client, records = make_client(max_retries=2)
    # llama.cpp's server answers `response_format: json_schema` with HTTP 500
    fake_openai.script({"status": 500}, {"content": VALID_THEMES}, {"content": VALID_THEMES})
    first = client.structured(USER, Themes, purpose="synthesis", prompt_version="v1")
    second = client.structured(USER, Themes, purpose="synthesis", prompt_version="v1")
    assert first == second and first.themes[0].title == "Parking"
    asked = [r["body"] for r in fake_openai.requests(CHAT)]
    assert len(asked) == 3 and "response_format" in asked[0]
    assert all("response_format" not in body and "JSON schema" in body["messages"][0]["content"] for body in asked[1:])
    assert [r.outcome for r in records] == ["server_error", "ok", "ok"] and pauses == []


def test_json_is_read_through_thinking_fences_and_prose(make_client: MakeClient, fake_openai: FakeOpenAI) -> None:
    client, _ = make_client()
    fake_openai.script({"content": '<think>The user wants {"themes": []}. Fine.</think>\nSure! Here it is:\n'
                                   f"```json\n{VALID_THEMES}\n```\nAnything else?"},
                       {"content": f"Here is the JSON you asked for: {VALID_THEMES} Hope it helps."})
    for _ in range(2):
        assert client.structured(USER, Themes, purpose="synthesis", prompt_version="v1").summary == \
            "People want parking."


def test_a_think_block_never_reaches_the_participant(make_client: MakeClient, fake_openai: FakeOpenAI) -> None:
    client, records = make_client()
    fake_openai.script({"content": "<think>They seem tired; ask about workload first.</think>\n\n"
                                   "How did the workload feel this sprint?"},
                       {"content": "<think>Only notes, never closed"})
    assert "".join(client.stream(USER, purpose="facilitation", prompt_version="v1")) == \
        "How did the workload feel this sprint?"
    with pytest.raises(LLMOutputError, match="empty"):
        list(client.stream(USER, purpose="facilitation", prompt_version="v1"))
    fake_openai.script({"content": "<think>x</think>Plain answer."})
    assert client.complete(USER, purpose="generation", prompt_version="v1") == "Plain answer."


@pytest.mark.parametrize(("pieces", "expected"), [
    (["<th", "ink>notes</th", "ink> Hi", " there"], "Hi there"),
    (["Hi", " <think> is literal"], "Hi <think> is literal"),      # only a leading block is notes
    (["<", "b>bold?"], "<b>bold?"),
    (["  <THINK>", "x", "</think>", "Hi there"], "Hi there"),
    (["<thi"], "<thi"),
])
def test_thinking_is_hidden_however_the_stream_is_cut(pieces: list[str], expected: str) -> None:
    from core.llm.client import _HideThinking

    hide = _HideThinking()
    out = "".join(p for piece in pieces for p in hide.feed(piece)) + "".join(hide.flush())
    assert out == expected


def test_a_stream_without_usage_is_counted_by_the_app_and_marked(make_client: MakeClient,
                                                                 fake_openai: FakeOpenAI) -> None:
    client, records = make_client()
    fake_openai.script({"content": "How was the sprint for you?", "no_usage": True}, {"content": "And then?"})
    assert "".join(client.stream(USER, purpose="facilitation", prompt_version="v1")) == "How was the sprint for you?"
    list(client.stream(USER, purpose="facilitation", prompt_version="v1"))
    counted, reported = records
    assert counted.tokens_estimated and (counted.input_tokens, counted.output_tokens) == (3, 7)
    assert not reported.tokens_estimated and reported.input_tokens == 3     # the server's own figures


def test_a_server_that_refuses_stream_options_is_asked_without_them_from_then_on(make_client: MakeClient,
                                                                                 fake_openai: FakeOpenAI) -> None:
    client, records = make_client()
    refusal = {"status": 400, "message": "Unrecognized request argument supplied: stream_options"}
    fake_openai.script(refusal, {"content": "How was the sprint for you?"}, {"content": "And then?"})
    assert "".join(client.stream(USER, purpose="facilitation", prompt_version="v1")) == "How was the sprint for you?"
    assert "".join(client.stream(USER, purpose="facilitation", prompt_version="v1")) == "And then?"
    sent = [r["body"] for r in fake_openai.requests("/v1/chat/completions")]
    assert ["stream_options" in body for body in sent] == [True, False, False]
    refused, *answered = records                          # one row per HTTP attempt, the refused one too
    assert refused.outcome != "ok" and "stream_options" in refused.error
    assert [r.outcome for r in answered] == ["ok", "ok"] and all(r.tokens_estimated for r in answered)


def test_a_refusal_for_another_reason_is_not_taken_for_a_stream_options_refusal(make_client: MakeClient,
                                                                               fake_openai: FakeOpenAI) -> None:
    client, records = make_client()
    too_long = {"status": 400, "message": "This model's maximum context length is 8192 tokens."}
    fake_openai.script(too_long, too_long, {"content": "Fine now."})
    with pytest.raises(LLMRequestError):
        list(client.stream(USER, purpose="facilitation", prompt_version="v1"))
    list(client.stream(USER, purpose="facilitation", prompt_version="v1"))
    assert "stream_options" in fake_openai.requests("/v1/chat/completions")[-1]["body"]   # still asked
    assert [r.outcome == "ok" for r in records] == [False, False, True] and not records[-1].tokens_estimated
