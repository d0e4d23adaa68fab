"""Process-wide resources: the first page run warms the heavy imports and takes them out of garbage collection."""

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

# In a process of its own: freezing is process-wide and the warm-up runs once per process.
PROBE = """
import gc, threading
from ui.resources import db
db()
for thread in threading.enumerate():
    if thread.name == "harmonica-warm-up":
        thread.join()
print(gc.get_freeze_count(), len(gc.get_objects()))
"""


def test_first_page_run_freezes_the_imported_modules(tmp_path):
    env = {**os.environ, "HARMONICA_DB": str(tmp_path / "h.duckdb"), "HARMONICA_SECRETS_DIR": str(tmp_path / "s"),
           "HARMONICA_BACKUP_EVERY_H": "0"}
    done = subprocess.run([sys.executable, "-c", PROBE], cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=180)
    assert done.returncode == 0, done.stderr
    frozen, collectable = map(int, done.stdout.split())
    # Streamlit's full collection after every script run walks only what is not frozen: the modules of pandas,
    # scikit-learn and Plotly (~200,000 objects) must be out of it, leaving a small remainder.
    assert frozen > 50_000
    assert collectable < frozen / 10


def test_streamlit_does_not_collect_garbage_after_every_run():
    import tomllib

    # A full collection after every script run was 80% of a chat turn's server CPU (bench/server_capacity.py).
    config = tomllib.loads((REPO / ".streamlit" / "config.toml").read_text())
    assert config["runner"]["postScriptGC"] is False
