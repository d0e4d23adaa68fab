"""Unexpected errors: a plain message with a short reference for people, the full traceback in the server log.

A page that raises, or a background job that fails, must not show a traceback (server paths, SQL, internals) to
whoever is looking. `report(exc)` logs the exception with a fresh reference id and returns the message to show;
the same id is in the log line, so an administrator can find the details from what the user reads out.
"""

from __future__ import annotations

import logging
import secrets

from core.db import DatabaseLocked

log = logging.getLogger("harmonica.errors")

UNEXPECTED = ("Something went wrong on our side and this page could not be shown. Please try again; if it keeps "
              "happening, tell the administrator the reference {ref}.")
JOB_FAILED = ("Something went wrong on our side. Please try again; if it keeps happening, tell the administrator "
              "the reference {ref}.")
LOCKED = ("Harmonica cannot open its database right now: another program is using it (for example a command-line "
          "task or a second copy of the app). Please try again in a minute; if it keeps happening, tell the "
          "administrator the reference {ref}.")


def new_reference() -> str:
    """A short id to quote to an administrator (8 characters, no look-alike letters)."""
    alphabet = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
    return "".join(secrets.choice(alphabet) for _ in range(8))


def user_message(exc: BaseException, ref: str, template: str = UNEXPECTED) -> str:
    """What to show for `exc`: plain words and the reference, never the exception's text or a path. `template`
    (with `{ref}`) words an unexpected error for where it happened (a page by default, or JOB_FAILED)."""
    return (LOCKED if isinstance(exc, DatabaseLocked) else template).format(ref=ref)


def report(exc: BaseException, context: str = "unexpected error", template: str = UNEXPECTED) -> str:
    """Log `exc` with its traceback under a new reference; return the plain message for the user."""
    ref = new_reference()
    log.error("%s [ref %s]", context, ref, exc_info=(type(exc), exc, exc.__traceback__))
    return user_message(exc, ref, template)
