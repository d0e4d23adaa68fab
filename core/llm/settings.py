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

    def model_for(self, purpose: str) -> str:
        """The model for a purpose whose first word is facilitation, generation or synthesis."""
        kind = re.split(r"[.:/_\- ]", purpose, maxsplit=1)[0].lower()
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
        )
