import os
import re
import stat

from core import backup
from core.config import ROOT, SETTINGS, cookie_key, live, load_settings, secret_file


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


def _readme_settings() -> set[str]:
    """Every variable named in the README's configuration table (its first column)."""
    text = (ROOT / "README.md").read_text()
    table = text.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    rows = [line.split("|")[1] for line in table.splitlines() if line.startswith("| `")]
    return {name for row in rows for name in re.findall(r"`([A-Z][A-Z0-9_]+)`", row)}


def test_every_setting_is_in_the_readme_table_and_nothing_else_is():
    declared = {s.name for s in SETTINGS}
    assert declared - _readme_settings() == set(), "settings missing from the README's table"
    assert _readme_settings() - declared == set(), "README names settings the code does not declare"


def test_a_value_that_does_not_parse_is_the_default_and_numbers_stay_in_range(monkeypatch, caplog):
    s = load_settings({"HARMONICA_LLM_TIMEOUT": "soon", "HARMONICA_LLM_RETRIES": "99", "HARMONICA_OFFLINE": "maybe"})
    assert s.llm_timeout_s == 30.0 and s.llm_retries == 10 and "HARMONICA_LLM_TIMEOUT='soon'" in caplog.text
    monkeypatch.setenv("HARMONICA_BACKUP_EVERY_H", "daily")
    assert backup.every_hours() == 24.0                    # read at each use: no crash in the backup thread
    monkeypatch.setenv("HARMONICA_BACKUP_EVERY_H", "-3")
    assert backup.every_hours() == 0.0
    monkeypatch.setenv("HARMONICA_AUTO_SYNTHESIS", "off")
    assert live("HARMONICA_AUTO_SYNTHESIS") is False


def test_a_configured_cookie_key_is_used_by_every_process_instead_of_a_generated_one(tmp_path):
    env = {"HARMONICA_DB": str(tmp_path / "h.duckdb"), "HARMONICA_SECRETS_DIR": str(tmp_path / "sec")}
    generated = cookie_key(load_settings(env))
    assert generated == cookie_key(load_settings(env))          # kept in the secrets folder
    shared = cookie_key(load_settings({**env, "HARMONICA_COOKIE_KEY": "one key for every replica"}))
    assert shared == "one key for every replica"
