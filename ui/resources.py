"""Process-wide resources for pages: the database, its backup worker, and imports warmed in the background."""

from __future__ import annotations

import gc
import importlib
import threading

from core import backup
from core.db import Database, configured_database
from ui.errors import install as install_error_handler


def db() -> Database:
    """The app's database (opened and migrated once per process by core.db).

    Every page calls this on every run before anything else that can fail, so it also installs the page's error
    handler (ui.errors): an exception from here on, such as a database held by another process, shows a plain
    message with a reference, and its traceback goes to the log.
    """
    install_error_handler()
    database = configured_database()
    backup.start_worker(database)   # snapshots from inside the process that holds the file (once per process)
    _warm_imports()
    return database


# What the results and design pages import (~1.5 s on 2 cores): imported in the background during the process's
# first page run (usually the sign-in page), so the first Results a person opens does not wait for them.
_HEAVY = ("core.results", "core.export", "core.synthesis.pipeline", "core.synthesis.figures", "ui.results_view",
          "ui.charts", "core.generation", "core.simulation", "ui.cards", "ui.sharing")
_warmed = threading.Event()


def _warm_imports() -> None:
    if _warmed.is_set():
        return
    _warmed.set()
    threading.Thread(target=_import_and_freeze, name="harmonica-warm-up", daemon=True).start()


def _import_and_freeze() -> None:
    for name in _HEAVY:
        importlib.import_module(name)
    # Streamlit runs a full gc.collect() after every script run (runner.postScriptGC). With pandas, scikit-learn
    # and Plotly imported that walks ~200,000 objects: 150-300 ms per run on these cores, most of a chat turn's
    # server CPU (bench/server_capacity.py). Those objects live as long as the process: freezing them leaves them
    # out of every later collection, which then only walks what the pages made since.
    gc.collect()
    gc.freeze()
