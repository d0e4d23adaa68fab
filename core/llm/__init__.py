"""Language-model access behind small protocols.

Import the interface from here (`TextModel`, `Embedder`, `CallRecord`, errors,
`LLMSettings`); `LLMClient` is loaded on first use so that importing the
interface does not pull in the openai package.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from core.llm.errors import (
    LLMAuthError,
    LLMConnectionError,
    LLMError,
    LLMOutputError,
    LLMRateLimited,
    LLMRequestError,
    LLMServerError,
    LLMTimeout,
)
from core.llm.protocol import CallRecord, ChatMessage, Embedder, OnCall, TextModel
from core.llm.scope import CallScope, call_scope, current_scope
from core.llm.settings import LLMSettings

if TYPE_CHECKING:
    from core.llm.client import LLMClient

__all__ = [
    "CallRecord",
    "CallScope",
    "call_scope",
    "current_scope",
    "ChatMessage",
    "Embedder",
    "LLMAuthError",
    "LLMClient",
    "LLMConnectionError",
    "LLMError",
    "LLMOutputError",
    "LLMRateLimited",
    "LLMRequestError",
    "LLMServerError",
    "LLMSettings",
    "LLMTimeout",
    "OnCall",
    "TextModel",
]


def __getattr__(name: str) -> Any:
    if name == "LLMClient":
        from core.llm.client import LLMClient

        return LLMClient
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
