"""The interface the rest of the app uses for language models (no openai import here)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol, TypedDict, TypeVar, runtime_checkable

from pydantic import BaseModel

M = TypeVar("M", bound=BaseModel)


class ChatMessage(TypedDict):
    role: Literal["system", "user", "assistant"]
    content: str


@dataclass(frozen=True)
class CallRecord:
    """One request to a model endpoint, for usage and error logs (never holds the key)."""

    purpose: str
    model: str
    endpoint_host: str
    prompt_version: str | None
    input_tokens: int | None
    output_tokens: int | None
    latency_ms: int
    outcome: str  # "ok", "cancelled", or an LLMError.outcome such as "timeout"
    error: str | None = None
    attempt: int = 1  # 2 for the repair request of `structured`
    session_id: str | None = None  # from core.llm.scope.call_scope, when the call serves a session
    participant_id: str | None = None
    tokens_estimated: bool = False  # the server sent no usage: the app counted (core.text.count_tokens)


OnCall = Callable[[CallRecord], None]


@runtime_checkable
class TextModel(Protocol):
    """Generates text: implemented by LLMClient and by offline stand-ins."""

    def complete(
        self,
        messages: Sequence[ChatMessage],
        *,
        purpose: str,
        prompt_version: str,
        model: str | None = None,
        temperature: float | None = None,
    ) -> str: ...

    def stream(
        self,
        messages: Sequence[ChatMessage],
        *,
        purpose: str,
        prompt_version: str,
        model: str | None = None,
    ) -> Iterator[str]: ...

    def structured(
        self,
        messages: Sequence[ChatMessage],
        schema: type[M],
        *,
        purpose: str,
        prompt_version: str,
        model: str | None = None,
    ) -> M: ...


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into vectors, one per text, in order."""

    def embed(self, texts: Sequence[str], *, purpose: str, model: str | None = None) -> list[list[float]]: ...
