"""Connection and model settings for the language-model client."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from core.config import Settings

DEFAULT_BASE_URL = "https://api.openai.com/v1"
PURPOSE_KINDS = ("facilitation", "generation", "synthesis")
# Longest reply each kind of call may write (tokens): a facilitator's question is a few sentences; a guide or a
# synthesis step is structured JSON. A model that runs on (a base model streaming junk) is cut there, not minutes
# later.
MAX_TOKENS = {"facilitation": 400, "generation": 4000, "synthesis": 2000}


@dataclass(frozen=True)
class LLMSettings:
    # repr=False: settings end up in logs and tracebacks; the key must not
    api_key: str | None = field(repr=False)
    base_url: str | None
    model_facilitation: str
    model_generation: str
    model_synthesis: str
    timeout_s: float = 30.0
    max_retries: int = 2
    model_embedding: str = "text-embedding-3-small"
    # a streamed reply (a participant waits on it): its first text within first_token_s, all of it within
    # stream_deadline_s; past either the call fails (and the offline facilitator answers)
    first_token_s: float = 10.0
    stream_deadline_s: float = 45.0
    # one gate per endpoint (core/llm/gate.py): calls at once, calls started per minute (0: no limit), and how
    # long a call other than a participant's turn may queue for a slot (a turn queues at most first_token_s)
    concurrency: int = 8
    per_minute: int = 0
    queue_s: float = 60.0

    @property
    def configured(self) -> bool:
        """True when a key or an endpoint is set (local servers need no key)."""
        return bool(self.api_key or self.base_url)

    @property
    def endpoint_url(self) -> str:
        return self.base_url or DEFAULT_BASE_URL

    @property
    def endpoint_host(self) -> str:
        """Host (and port, when given) of the endpoint: safe to log and show."""
        parts = urlsplit(self.endpoint_url)
        host = parts.hostname or "unknown-host"
        try:
            port = parts.port
        except ValueError:
            port = None
        return f"{host}:{port}" if port else host

    @staticmethod
    def kind_of(purpose: str) -> str:
        return re.split(r"[.:/_\- ]", purpose, maxsplit=1)[0].lower()

    def max_tokens_for(self, purpose: str) -> int:
        """The reply's token cap for a purpose (MAX_TOKENS by its kind; the largest for an unknown kind)."""
        return MAX_TOKENS.get(self.kind_of(purpose), max(MAX_TOKENS.values()))

    def model_for(self, purpose: str) -> str:
        """The model for a purpose whose first word is facilitation, generation or synthesis."""
        kind = self.kind_of(purpose)
        if kind == "facilitation":
            return self.model_facilitation
        if kind == "generation":
            return self.model_generation
        if kind == "synthesis":
            return self.model_synthesis
        raise ValueError(f"purpose {purpose!r} must start with one of {PURPOSE_KINDS}, or pass model= explicitly")

    @classmethod
    def from_config(cls, config: Settings) -> LLMSettings:
        """Build from the app-wide `core.config.Settings`."""
        return cls(
            api_key=config.openai_api_key,
            base_url=config.openai_base_url,
            model_facilitation=config.model_facilitation,
            model_generation=config.model_generation,
            model_synthesis=config.model_synthesis,
            timeout_s=config.llm_timeout_s,
            max_retries=config.llm_retries,
            first_token_s=config.llm_first_token_s,
            stream_deadline_s=config.llm_stream_deadline_s,
            concurrency=config.llm_concurrency,
            per_minute=config.llm_per_minute,
        )
