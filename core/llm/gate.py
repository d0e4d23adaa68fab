"""One gate per endpoint, shared by every client and thread of the process: a limit on calls at once and calls
started per minute (callers queue for a slot, up to what they can wait), and a circuit breaker.

Two hundred participants answering at once against a server that allows 60 requests a minute should queue, not
fail over to the offline facilitator within two seconds; and a server that is down should be left alone for a
moment instead of making every participant wait for its timeout. The breaker opens after BREAK_AFTER calls in a
row failed for the server's reasons (timeouts, lost connections, 5xx: not rate limits, which say when to come
back, nor bad replies), fails calls at once for BREAK_FOR_S, then lets calls through again: the next failure opens
it at once, the next success closes it.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from core.llm.errors import LLMConnectionError, LLMError, LLMServerError, LLMTimeout

BREAK_AFTER = 5
BREAK_FOR_S = 30.0
_WINDOW_S = 60.0


class LLMUnavailable(LLMError):
    """No call was made: the breaker is open, or no slot came free in time."""

    outcome = "unavailable"


@dataclass(frozen=True)
class GateState:
    """What the admin page shows."""

    concurrency: int
    per_minute: int                  # 0: no limit
    in_flight: int
    queued: int
    started_last_minute: int
    failures_in_a_row: int
    open_for_s: float                # > 0: the breaker is open for this long still

    @property
    def breaker(self) -> str:
        return f"open ({self.open_for_s:.0f} s left)" if self.open_for_s > 0 else "closed"


class Gate:
    def __init__(self, concurrency: int, per_minute: int = 0, clock=time.monotonic) -> None:
        self.concurrency = max(1, concurrency)
        self.per_minute = max(0, per_minute)
        self._clock = clock
        self._cond = threading.Condition()
        self._starts: deque[float] = deque()
        self._in_flight = 0
        self._queued = 0
        self._failures = 0
        self._open_until = 0.0

    @contextmanager
    def slot(self, wait_s: float, host: str = "the model") -> Iterator[None]:
        """Hold one call's slot while the block runs; waits at most `wait_s` for it (LLMUnavailable after)."""
        with self._cond:
            now = self._clock()
            if self._open_until > now:
                raise LLMUnavailable(f"Calls to {host} are paused for {self._open_until - now:.0f} s after "
                                     f"{self._failures} failures in a row.")
            deadline = now + wait_s
            self._queued += 1
            try:
                while (pause := self._pause(self._clock())) > 0:
                    left = deadline - self._clock()
                    if left <= 0:
                        raise LLMUnavailable(f"{host} is busy: no call could start within {wait_s:g} s "
                                             f"({self._in_flight} running, {self._queued - 1} waiting).")
                    self._cond.wait(min(left, pause))
            finally:
                self._queued -= 1
            self._in_flight += 1
            self._starts.append(self._clock())
        try:
            yield
        finally:
            with self._cond:
                self._in_flight -= 1
                self._cond.notify_all()

    def _pause(self, now: float) -> float:
        """0 when a call may start now, else how long to wait before looking again."""
        while self._starts and now - self._starts[0] >= _WINDOW_S:
            self._starts.popleft()
        if self._in_flight >= self.concurrency:
            return 1.0                       # woken when a call ends
        if self.per_minute and len(self._starts) >= self.per_minute:
            return max(self._starts[0] + _WINDOW_S - now, 0.01)
        return 0.0

    def outcome(self, error: LLMError | None) -> None:
        """After a call: a success closes the breaker; a failure of the server's own counts towards opening it."""
        with self._cond:
            if error is None:
                self._failures, self._open_until = 0, 0.0
            elif isinstance(error, (LLMTimeout, LLMConnectionError, LLMServerError)):
                self._failures += 1
                if self._failures >= BREAK_AFTER:
                    self._open_until = self._clock() + BREAK_FOR_S

    def state(self) -> GateState:
        with self._cond:
            now = self._clock()
            self._pause(now)
            return GateState(self.concurrency, self.per_minute, self._in_flight, self._queued, len(self._starts),
                             self._failures, max(self._open_until - now, 0.0))


_gates: dict[str, Gate] = {}
_lock = threading.Lock()


def gate_for(endpoint: str, concurrency: int, per_minute: int) -> Gate:
    """The process's gate for an endpoint (made with these limits the first time; later limits replace them)."""
    with _lock:
        gate = _gates.get(endpoint)
        if gate is None:
            gate = _gates[endpoint] = Gate(concurrency, per_minute)
        else:
            gate.concurrency, gate.per_minute = max(1, concurrency), max(0, per_minute)
        return gate


def gate_states() -> dict[str, GateState]:
    with _lock:
        return {endpoint: gate.state() for endpoint, gate in _gates.items()}


def forget_gates() -> None:
    """Drop every gate (their counts and breakers): for tests, each against a fresh server."""
    with _lock:
        _gates.clear()
