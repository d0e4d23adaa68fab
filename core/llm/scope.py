"""Which session and participant a model call serves, for the call log (a context variable, per thread)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass


@dataclass(frozen=True)
class CallScope:
    session_id: str | None = None
    participant_id: str | None = None


_current: ContextVar[CallScope] = ContextVar("harmonica_call_scope", default=CallScope())


def current_scope() -> CallScope:
    """The scope set by the innermost `call_scope` of this thread (empty outside any)."""
    return _current.get()


@contextmanager
def call_scope(session_id: str | None = None, participant_id: str | None = None) -> Iterator[CallScope]:
    """Tag every model call made inside the block with a session (and participant)."""
    # a context variable rather than a parameter on every call: one shared client serves every thread
    scope = CallScope(session_id, participant_id)
    token = _current.set(scope)
    try:
        yield scope
    finally:
        try:
            _current.reset(token)
        except ValueError:  # a generator closed in another context: nothing to restore there
            pass
