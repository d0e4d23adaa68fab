"""The per-endpoint gate: calls at once, calls per minute (queued, not failed), and the circuit breaker."""

from __future__ import annotations

import threading
from contextlib import ExitStack

import pytest

from core.llm import LLMClient, LLMRateLimited, LLMServerError, LLMSettings
from core.llm.gate import BREAK_AFTER, BREAK_FOR_S, Gate, LLMUnavailable, gate_states
from tests.fakes.fake_openai import FakeOpenAI


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_no_more_calls_at_once_than_allowed():
    gate = Gate(concurrency=1)
    with ExitStack() as held:
        held.enter_context(gate.slot(1))
        assert gate.state().in_flight == 1
        with pytest.raises(LLMUnavailable, match="busy"):
            with gate.slot(0.05):
                pass
    with gate.slot(0.05):
        assert gate.state().in_flight == 1


def test_calls_per_minute_are_counted_over_the_last_minute():
    clock = Clock()
    gate = Gate(concurrency=5, per_minute=2, clock=clock)
    for _ in range(2):
        with gate.slot(0):
            pass
    with pytest.raises(LLMUnavailable, match="no call could start"):
        with gate.slot(0):
            pass
    clock.now += 60
    with gate.slot(0):
        pass
    assert gate.state().started_last_minute == 1


def test_the_breaker_opens_after_failures_of_the_server_and_closes_after_a_success():
    clock = Clock()
    gate = Gate(concurrency=5, clock=clock)
    for _ in range(BREAK_AFTER - 1):
        gate.outcome(LLMServerError("500"))
    gate.outcome(LLMRateLimited("429"))         # says when to come back: not a failure of the server
    with gate.slot(0):
        pass
    gate.outcome(LLMServerError("500"))
    assert gate.state().breaker.startswith("open")
    with pytest.raises(LLMUnavailable, match="paused"):
        with gate.slot(5):
            pass
    clock.now += BREAK_FOR_S
    with gate.slot(0):                           # then one is let through...
        pass
    gate.outcome(LLMServerError("500"))          # ... and a failure opens it again at once
    assert gate.state().breaker.startswith("open")
    clock.now += BREAK_FOR_S
    gate.outcome(None)
    assert gate.state().breaker == "closed" and gate.state().failures_in_a_row == 0


def test_callers_queue_for_a_slot_instead_of_failing(fake_openai: FakeOpenAI):
    settings = LLMSettings(api_key="k", base_url=fake_openai.base_url, model_facilitation="m",
                           model_generation="m", model_synthesis="m", concurrency=2, max_retries=0)
    fake_openai.script(*[{"content": f"reply {i}", "delay": 0.3} for i in range(6)])
    replies: list[str] = []
    with LLMClient(settings) as client:
        threads = [threading.Thread(target=lambda: replies.append(client.complete(
            [{"role": "user", "content": "hi"}], purpose="synthesis", prompt_version="v")))
            for _ in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert sorted(replies) == sorted(f"reply {i}" for i in range(6))      # every call served, none refused
    assert fake_openai.max_in_flight() <= 2
    assert gate_states()[fake_openai.base_url].in_flight == 0
