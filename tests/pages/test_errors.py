"""Unexpected errors reach people as a plain message with a reference, never a traceback or a server path; the
traceback goes to the log under that reference (issue 15, point 8)."""

from __future__ import annotations

import logging
import re
import subprocess
import sys
import tomllib
from pathlib import Path

from core import db as dbmod
from core.errors import LOCKED
from tests.helpers import launched_session
from tests.pages.apptest import app, texts

ROOT = Path(__file__).resolve().parents[2]
SECRET = "boom in /srv/harmonica/core/secret_module.py line 42"


def shown(at) -> str:
    return texts(at) + "\n".join(str(e.proto) for e in at.get("exception"))


def reference(at) -> str:
    errors = [e.value for e in at.error]
    assert len(errors) == 1, errors
    match = re.search(r"reference ([A-Z0-9]{8})", errors[0])
    assert match, errors[0]
    return match.group(1)


def assert_plain(at) -> None:
    assert not at.exception, at.exception          # no Streamlit exception box (type, message, traceback)
    text = shown(at)
    for leak in ("Traceback", "boom", "/srv/", "secret_module", "RuntimeError", str(ROOT)):
        assert leak not in text, leak


def logged(caplog, ref: str) -> logging.LogRecord:
    records = [r for r in caplog.records if ref in r.getMessage() and r.exc_info]
    assert records, [r.getMessage() for r in caplog.records]
    return records[0]


def test_showing_error_details_is_off_in_the_streamlit_config():
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["client"]["showErrorDetails"] == "none"


def test_a_page_that_raises_shows_a_plain_message_and_logs_the_traceback(db, creator, monkeypatch, caplog):
    def broken(*args, **kwargs):
        raise RuntimeError(SECRET)

    monkeypatch.setattr("core.sessions.list_for", broken)
    caplog.set_level(logging.ERROR)
    at = app(user=creator).run()
    assert_plain(at)
    ref = reference(at)
    assert "Something went wrong" in at.error[0].value
    record = logged(caplog, ref)
    assert SECRET in str(record.exc_info[1])     # the details are in the log, under the reference shown


def test_an_error_deep_in_the_results_page_is_plain_too(db, creator, monkeypatch, caplog):
    s = launched_session(db, creator)

    def broken(*args, **kwargs):
        raise RuntimeError(SECRET)

    monkeypatch.setattr("core.results.SessionResults.overview", broken)
    caplog.set_level(logging.ERROR)
    at = app("pages/results.py", user=creator, query={"s": s.id}).run()
    assert_plain(at)
    logged(caplog, reference(at))


def test_a_database_held_by_another_process_gets_a_plain_explanation(db_path, caplog):
    holder = subprocess.Popen(
        [sys.executable, "-c", "import duckdb, sys; c = duckdb.connect(sys.argv[1]); print('ready', flush=True); "
                               "sys.stdin.read()", str(db_path)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "ready"
        caplog.set_level(logging.ERROR)
        at = app().run()
        assert_plain(at)
        assert str(db_path) not in shown(at) and str(db_path.parent) not in shown(at)
        ref = reference(at)
        assert at.error[0].value == LOCKED.format(ref=ref)
        assert str(db_path) in str(logged(caplog, ref).exc_info[1])    # the log says which file
    finally:
        holder.stdin.close()
        holder.wait(30)
    dbmod.close_all()
    at = app().run()                                  # once the other process is gone, the app opens it
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert "Sign in" in texts(at) or at.get("tab")
