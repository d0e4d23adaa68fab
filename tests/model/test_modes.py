"""Mode selection from configuration (environment or secrets.toml); what the admin view may show."""

from __future__ import annotations

from core import config, modes
from core.config import load_settings
from core.facilitation.model import ModelFacilitator
from tests.model.conftest import API_KEY


def test_offline_by_default():
    info = modes.mode_info(load_settings({}))
    assert info.mode == "offline" and info.endpoint_host is None and not info.key_set


def test_model_mode_from_secrets_toml(monkeypatch):
    monkeypatch.setattr(config, "_secrets_file", lambda: {
        "OPENAI_BASE_URL": "http://user:pw@llm.internal:11434/v1", "HARMONICA_MODEL": "llama3.1",
        "HARMONICA_MODEL_SYNTHESIS": "big", "HARMONICA_LLM_RETRIES": 3})
    s = load_settings({})
    info = modes.mode_info(s)
    assert info.mode == "model" and info.endpoint_host == "llm.internal:11434"
    assert info.endpoint_url == "http://llm.internal:11434/v1"  # credentials in the URL are not shown
    assert (info.model_facilitation, info.model_generation, info.model_synthesis) == ("llama3.1", "llama3.1", "big")
    assert info.retries == 3 and not info.key_set


def test_the_key_is_never_in_what_the_admin_view_gets(model_env):
    info = modes.mode_info()
    assert info.key_set and API_KEY not in repr(info) and API_KEY not in str(vars(info))


def test_facilitator_retries_come_from_config_and_the_sdk_does_not_retry_turns(db, model_env):
    fac = modes.facilitator(db)
    assert isinstance(fac, ModelFacilitator) and fac.retries == 1 and fac.source == "model"
    assert fac.model.settings.max_retries == 0          # the app retries turns itself, with an apology
    assert modes.client(db).settings.max_retries == 1   # other calls: the SDK's retries
    assert modes.client(db) is modes.client(db)         # one shared client (one connection pool)
