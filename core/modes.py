"""Which mode is active, and the model client and facilitator built from `core.config` when one is configured.

Clients are shared per process (one connection pool) and record every call in the database's call log.
Pages ask here; they never import openai.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, replace

from core.calllog import recorder
from core.config import Settings, settings
from core.db import Database
from core.facilitation.model import ModelFacilitator
from core.facilitation.offline import OfflineFacilitator
from core.facilitation.protocol import Facilitator
from core.llm import LLMError, LLMSettings
from core.llm.client import LLMClient

MAX_CACHED_CLIENTS = 8
_clients: dict[tuple[LLMSettings, int], LLMClient] = {}
_lock = threading.Lock()


@dataclass(frozen=True)
class ModeInfo:
    """What the admin page shows: never the key itself."""

    mode: str                 # "model" or "offline"
    endpoint_host: str | None
    endpoint_url: str | None  # without credentials
    key_set: bool
    model_facilitation: str
    model_generation: str
    model_synthesis: str
    timeout_s: float
    retries: int


def llm_settings(config: Settings | None = None) -> LLMSettings:
    return LLMSettings.from_config(config or settings())


def model_mode(config: Settings | None = None) -> bool:
    """True when a model endpoint or key is configured."""
    return llm_settings(config).configured


def mode_info(config: Settings | None = None) -> ModeInfo:
    s = llm_settings(config)
    on = s.configured
    return ModeInfo("model" if on else "offline", s.endpoint_host if on else None,
                    _without_credentials(s.endpoint_url) if on else None, bool(s.api_key), s.model_facilitation,
                    s.model_generation, s.model_synthesis, s.timeout_s, s.max_retries)


def _without_credentials(url: str) -> str:
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def client(db: Database, *, retries: int | None = None) -> LLMClient | None:
    """The shared client for this database (calls are logged there), or None in offline mode."""
    s = llm_settings()
    if not s.configured:
        return None
    if retries is not None:
        s = replace(s, max_retries=retries)
    key = (s, id(db))
    with _lock:
        found = _clients.get(key)
        if found is None:
            if len(_clients) >= MAX_CACHED_CLIENTS:  # settings changed (tests, reconfiguration): drop the oldest
                _clients.pop(next(iter(_clients))).close()
            found = _clients[key] = LLMClient(s, on_call=recorder(db))
        return found


def facilitator(db: Database) -> Facilitator:
    """The model facilitator in model mode (the offline one words a turn it fails), else the offline one."""
    config = settings()
    # the client does not retry facilitation calls: `conversation.respond` retries itself, so the
    # participant sees an apology instead of a long silence
    c = client(db, retries=0)
    if c is None:
        return OfflineFacilitator()
    return ModelFacilitator(c, retries=config.llm_retries, context_tokens=config.llm_context)


def check_connection(db: Database) -> tuple[bool, str]:
    """(ok, a sentence for people) after one tiny call to the configured endpoint."""
    c = client(db)
    if c is None:
        return False, "Offline mode: no model is configured (set OPENAI_BASE_URL and/or OPENAI_API_KEY)."
    try:
        return True, c.ping()
    except LLMError as exc:
        return False, str(exc)


def close_clients() -> None:
    """Close every shared client (tests, shutdown)."""
    with _lock:
        for c in _clients.values():
            c.close()
        _clients.clear()
