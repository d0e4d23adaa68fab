"""The readiness check a deployment polls says "error" while the database cannot be opened, "ok" once it can.

`/_stcore/health` only says the web server is up. `/_stcore/script-health-check` (enabled in
.streamlit/config.toml) runs Home.py as a visitor would, so a database held by another process shows there.
"""

from __future__ import annotations

import subprocess
import sys
import time
import urllib.error
import urllib.request

from tests.e2e import harness

HOLD_DATABASE = "import duckdb, sys, time; db = duckdb.connect(sys.argv[1]); print('held', flush=True); time.sleep(600)"


def _get(url: str) -> tuple[int, str]:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url, timeout=60) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def _ready_status(url: str, wanted: int) -> tuple[int, str]:
    """Poll the readiness check until it answers `wanted` (or a generous deadline passes)."""
    deadline = time.monotonic() + 60
    status, body = _get(f"{url}/_stcore/script-health-check")
    while status != wanted and time.monotonic() < deadline:
        time.sleep(0.5)
        status, body = _get(f"{url}/_stcore/script-health-check")
    return status, body


def test_readiness_reports_a_database_held_by_another_process(tmp_path):
    holder = subprocess.Popen([sys.executable, "-c", HOLD_DATABASE, str(tmp_path / "h.duckdb")],
                              stdout=subprocess.PIPE, text=True)
    server = None
    try:
        assert holder.stdout.readline().strip() == "held"
        server = harness.start_server(tmp_path)
        assert _get(f"{server.url}/_stcore/health")[0] == 200  # the web server itself is up
        status, body = _ready_status(server.url, 503)
        assert (status, body.strip()) == (503, "error")
        assert str(harness.REPO) not in body and "Traceback" not in body

        holder.kill()
        holder.wait(timeout=10)
        status, body = _ready_status(server.url, 200)
        assert (status, body.strip()) == (200, "ok")
    finally:
        holder.kill()
        if server is not None:
            server.stop()
