import os
import subprocess
import sys
from pathlib import Path

from core.accounts import authenticate
from core.db import open_database

ROOT = Path(__file__).resolve().parent.parent


def run_cli(*args, env_extra):
    env = {**os.environ, **env_extra}
    env.pop("OPENAI_API_KEY", None)
    env.pop("OPENAI_BASE_URL", None)
    return subprocess.run([sys.executable, "-m", "core", *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)


def test_help_lists_subcommands(tmp_path):
    out = run_cli("--help", env_extra={"HARMONICA_DB": str(tmp_path / "h.duckdb")})
    assert out.returncode == 0
    for name in ("seed-demo", "migrate", "reset-password"):
        assert name in out.stdout


def test_seed_demo_creates_a_populated_session(tmp_path):
    env = {"HARMONICA_DB": str(tmp_path / "h.duckdb"), "HARMONICA_SECRETS_DIR": str(tmp_path / "s")}
    out = run_cli("seed-demo", "--participants", "8", env_extra=env)
    assert out.returncode == 0, out.stderr
    password = out.stdout.split("password:")[1].split()[0]
    session_id = out.stdout.strip().splitlines()[-1].split("Session id:")[1].strip()
    db = open_database(tmp_path / "h.duckdb")
    try:
        user = authenticate(db, "demo", password)
        assert user is not None
        from core import results

        r = results.open(db, user, session_id).participants()
        assert r.session.status == "launched" and r.finished == 8
        assert results.open(db, user, session_id).synthesis_view().themes  # seed-demo synthesises before it exits
    finally:
        db.close()
        from core import db as dbmod

        dbmod._open.clear()


def test_reset_password_unknown_user(tmp_path):
    out = run_cli("reset-password", "ghost", env_extra={"HARMONICA_DB": str(tmp_path / "h.duckdb")})
    assert out.returncode == 1 and "No user named 'ghost'" in out.stderr


PROBE_REFRESH = """
import sys
from core import cli, refresh
code = cli.main(["seed-demo", "--participants", "4"])
print("pending", refresh.scheduler.pending(), "automatic runs", refresh.scheduler.runs)
sys.exit(code)
"""


def test_a_command_leaves_no_automatic_refresh_behind(tmp_path):
    # With no debounce the participants the demo simulates would start automatic syntheses at once; a command's
    # process must not start them (one still running when the interpreter exits aborts the process).
    env = {**os.environ, "HARMONICA_DB": str(tmp_path / "h.duckdb"), "HARMONICA_SECRETS_DIR": str(tmp_path / "s"),
           "HARMONICA_SYNTHESIS_DELAY": "0", "HARMONICA_AUTO_SYNTHESIS": "1"}
    done = subprocess.run([sys.executable, "-c", PROBE_REFRESH], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=180)
    assert done.returncode == 0, done.stderr
    assert "pending 0 automatic runs 0" in done.stdout
