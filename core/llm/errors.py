"""Errors raised by language-model calls; messages are fit to show a user."""

from __future__ import annotations

import re

# things shaped like keys ("sk-...", "key-...") that a server may quote back in an error
_SECRET_PATTERN = re.compile(r"\b(sk-|key-)[A-Za-z0-9*_\-]{4,}")


class LLMError(Exception):
    """Any failure of a language-model call."""

    outcome = "error"  # the CallRecord.outcome for this failure
    retry_after: float | None = None  # seconds the server asked to wait before another try (Retry-After)


class LLMTimeout(LLMError):
    outcome = "timeout"


class LLMConnectionError(LLMError):
    outcome = "connection"


class LLMRateLimited(LLMError):
    outcome = "rate_limit"


class LLMServerError(LLMError):
    outcome = "server_error"


class LLMAuthError(LLMError):
    """The endpoint rejected the API key (HTTP 401/403)."""

    outcome = "auth"


class LLMRequestError(LLMError):
    """The endpoint refused the request, e.g. an unknown model (other HTTP 4xx)."""

    outcome = "bad_request"


class LLMOutputError(LLMError):
    """The reply was empty, unreadable, or did not match the expected schema."""

    outcome = "bad_output"


def redact(text: str, api_key: str | None) -> str:
    """Remove the key, and anything shaped like a key, from text bound for logs or people."""
    if api_key:
        text = text.replace(api_key, "***")
    return _SECRET_PATTERN.sub(r"\1***", text)

