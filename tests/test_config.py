import os
import stat

from core.config import load_settings, secret_file


def test_defaults_are_offline_and_under_data():
    s = load_settings({})
    assert s.db_path.name == "harmonica.duckdb" and s.db_path.parent.name == "data"
    assert not s.model_configured
    assert s.model_facilitation == s.model_synthesis == "gpt-4o-mini"


def test_environment_overrides(tmp_path):
    s = load_settings({"HARMONICA_DB": str(tmp_path / "x.duckdb"), "OPENAI_BASE_URL": "http://127.0.0.1:1/v1",
                       "HARMONICA_MODEL": "m", "HARMONICA_MODEL_SYNTHESIS": "big"})
    assert s.db_path == tmp_path / "x.duckdb"
    assert s.model_configured and s.model_facilitation == "m" and s.model_synthesis == "big"


def test_secret_is_generated_once_with_private_mode(tmp_path):
    s = load_settings({"HARMONICA_SECRETS_DIR": str(tmp_path / "sec")})
    key = secret_file(s, "cookie_key")
    assert len(key) >= 40 and secret_file(s, "cookie_key") == key
    mode = stat.S_IMODE(os.stat(tmp_path / "sec" / "cookie_key").st_mode)
    assert mode == 0o600


def test_offline_switch_overrides_a_configured_model():
    s = load_settings({"OPENAI_BASE_URL": "http://127.0.0.1:1/v1", "OPENAI_API_KEY": "k", "HARMONICA_OFFLINE": "1"})
    assert not s.model_configured and s.openai_api_key is None
