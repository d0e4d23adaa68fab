"""Which session and participant a model call serves, for the call log (a context variable, per thread)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from contextvars import ContextVar
from dataclasses import dataclass


@dataclass(frozen=True)
class CallScope:
    session_id: str | None = None
    participant_id: str | None = None


# the default is frozen, so sharing it between contexts is safe
_current: ContextVar[CallScope] = ContextVar("harmonica_call_scope", default=CallScope())  # noqa: B039


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


class ScopedModel:
    """A model whose calls carry `session_id` in the call log when the caller set no session: synthesis and
    ask-the-data run outside any conversation, and their calls landed under "(no session)"."""

    def __init__(self, model, session_id: str) -> None:
        self._model = model
        self._session_id = session_id

    def __getattr__(self, name: str):
        return getattr(self._model, name)

    def complete(self, *args, **kwargs):
        with self._scope():
            return self._model.complete(*args, **kwargs)

    def structured(self, *args, **kwargs):
        with self._scope():
            return self._model.structured(*args, **kwargs)

    def embed(self, *args, **kwargs):
        with self._scope():
            return self._model.embed(*args, **kwargs)

    def _scope(self):
        # a narrower scope set by the caller (the extractor's per participant) wins
        return call_scope(self._session_id) if current_scope().session_id is None else nullcontext()
