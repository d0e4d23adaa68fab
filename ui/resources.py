"""Process-wide resources for pages: the database."""

from __future__ import annotations

from core import backup
from core.config import settings
from core.db import Database, open_database
from ui.errors import install as install_error_handler


def db() -> Database:
    """The app's database (opened and migrated once per process by core.db).

    Every page calls this on every run before anything else that can fail, so it also installs the page's error
    handler (ui.errors): an exception from here on, such as a database held by another process, shows a plain
    message with a reference, and its traceback goes to the log.
    """
    install_error_handler()
    database = open_database(settings().db_path)
    backup.start_worker(database)   # snapshots from inside the process that holds the file (once per process)
    return database
