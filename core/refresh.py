"""Automatic synthesis refresh: debounced, in a background thread of the server process (no Streamlit).

The conversation code calls `participant_finished(db, session_id)` when a participant's conversation ends, and
the session code calls `session_closed(db, session_id)`; including or excluding a participant calls
`request(...)` too. Each call (re)starts a per-session timer of `delay` seconds, so a burst of finishing
participants causes one run. When it fires, a worker thread runs the offline synthesis unless the latest run
is already up to date (an update touching only new participants when possible). A participant's page never
waits for it: the hooks only start a timer, and never raise. The run replays the researcher's codebook edits
(core/synthesis/codebook.py): one that no longer fits the new themes is kept as pending with why; a refresh never
discards an edit.

`start(db, session_id, trigger, job)` runs a synthesis now in the same kind of worker thread (the results page's
"Re-run synthesis", the first run after an import): the page returns at once and shows `progress(...)` (fraction,
message, and how it ended) beside the latest stored run, which stays readable meanwhile. One run per session at a
time; failures are logged with a reference (core.errors) and the page shows the plain message.

Settings (environment, read here because only this module uses them):
  HARMONICA_AUTO_SYNTHESIS   1 (default) or 0 to disable
  HARMONICA_SYNTHESIS_DELAY  debounce in seconds (default 20)
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Callable

from core import db as dbmod
from core.clock import utcnow
from core.config import live
from core.db import Database

Progress = Callable[[float, str], None]

log = logging.getLogger(__name__)


_switched_off = False   # by a process that must not leave background work behind (the CLI)


def switch_off() -> None:
    """No automatic refresh in this process from now on; pending ones are cancelled.

    A CLI command exits as soon as it is done: a refresh timer firing meanwhile (the debounce is 20 s, and a
    command on a busy machine can take longer) would run a synthesis in a daemon thread that the interpreter's exit
    stops inside DuckDB's C++ code, which aborts the process ("FATAL: exception not rethrown"). The commands that
    need themes synthesise explicitly; the app's own refresh picks up the rest."""
    global _switched_off
    _switched_off = True
    scheduler.cancel_all()


def _enabled() -> bool:
    if _switched_off:
        return False
    return live("HARMONICA_AUTO_SYNTHESIS")


def _delay() -> float:
    return live("HARMONICA_SYNTHESIS_DELAY")


def _default_runner(db: Database, session_id: str, reason: str) -> None:
    """Synthesise unless the latest run is current; keep the latest run's mode (model mode when it was and a model
    is still configured) and parameters."""
    from core.synthesis import pipeline
    from core.synthesis.models import synthesis_model

    latest = pipeline.repo.latest_run(db, session_id)
    params = None
    mode = "offline"
    if latest is not None:
        params = pipeline.Params(**{k: v for k, v in latest.params.items()
                                    if k in pipeline.Params.__dataclass_fields__})
        if latest.input_hash == pipeline.current_input_hash(db, [session_id], params, latest.mode, latest.embedder):
            return
        if latest.mode == "model" or latest.stats.get("requested_mode") == "model":   # retry after an outage
            mode = "model"
    pipeline.synthesize(db, [session_id], trigger=f"auto:{reason}", params=params,
                        progress=scheduler.reporter(db, session_id), model=synthesis_model(db, [session_id], mode))


@dataclass
class RunProgress:
    """A synthesis running in this process (or the last one that ended), for the results page to show."""
    trigger: str
    started: datetime
    fraction: float = 0.0
    message: str = "Starting"
    finished: datetime | None = None
    error: str | None = None      # fit to show (an unexpected error gives a reference to the server log)

    @property
    def running(self) -> bool:
        return self.finished is None


class RefreshScheduler:
    def __init__(self, delay: float | None = None, runner: Callable[[Database, str, str], None] | None = None):
        self.delay = delay
        self.runner = runner or _default_runner
        self._lock = threading.Lock()
        self._timers: dict[tuple[Path, str], threading.Timer] = {}
        self._running: set[tuple[Path, str]] = set()
        self._again: dict[tuple[Path, str], str] = {}
        self._idle = threading.Condition(self._lock)
        self._progress: dict[tuple[Path, str], RunProgress] = {}
        self.runs = 0

    def request(self, db: Database, session_id: str, reason: str) -> None:
        key = (db.path, session_id)
        delay = self.delay if self.delay is not None else _delay()
        with self._lock:
            if key in self._running:        # a run is in progress: run once more after it
                self._again[key] = reason
                return
            old = self._timers.pop(key, None)
            if old is not None:
                old.cancel()
            timer = threading.Timer(delay, self._fire, (db, session_id, reason))
            timer.daemon = True
            timer.name = f"synthesis-refresh-{session_id}"
            self._timers[key] = timer
            timer.start()

    def _fire(self, db: Database, session_id: str, reason: str) -> None:
        key = (db.path, session_id)
        with self._lock:
            if self._timers.get(key) is threading.current_thread():
                del self._timers[key]
            self._running.add(key)
            self._progress[key] = RunProgress(f"auto:{reason}", utcnow())
        self._work(db, session_id, lambda: self.runner(db, session_id, reason), "automatic synthesis")

    def _work(self, db: Database, session_id: str, job: Callable[[], object], what: str) -> None:
        """Run `job` (the caller marked the session running), record how it ended, then run once more if asked."""
        key = (db.path, session_id)
        error = None
        try:
            # The database may have been closed meanwhile (tests, shutdown): then there is nothing to do.
            if dbmod._open.get(db.path) is db:
                with db.exclusive(f"synthesis of {session_id}"):   # one run per session across replicas too
                    job()
                self.runs += 1
        except Exception as exc:  # never propagate into anyone's page; the results page offers a manual re-run
            from core.errors import JOB_FAILED, report

            error = report(exc, f"{what} of session {session_id} failed", JOB_FAILED)
        finally:
            with self._lock:
                state = self._progress.get(key)
                if state is not None:
                    state.finished, state.error = utcnow(), error
                    if error is None:
                        state.fraction, state.message = 1.0, "Done"
                self._running.discard(key)
                again = self._again.pop(key, None)
                self._idle.notify_all()
            if again is not None:
                self.request(db, session_id, again)

    def start(self, db: Database, session_id: str, trigger: str, job: Callable[[Progress], object]) -> bool:
        """Run `job(progress)` now in a worker thread (a manual re-run, the first run after an import), replacing a
        pending automatic refresh. False, and nothing started, when a run of the session is in progress."""
        key = (db.path, session_id)
        with self._lock:
            if key in self._running:
                return False
            pending = self._timers.pop(key, None)
            if pending is not None:
                pending.cancel()
            self._running.add(key)
            self._progress[key] = RunProgress(trigger, utcnow())
        report = self.reporter(db, session_id)
        worker = threading.Thread(target=self._work, args=(db, session_id, lambda: job(report), "synthesis"),
                                  name=f"synthesis-{trigger}-{session_id}", daemon=True)
        worker.start()
        return True

    def reporter(self, db: Database, session_id: str) -> Progress:
        """A pipeline progress callback that records the fraction and message of the session's current run."""
        key = (db.path, session_id)

        def update(fraction: float, message: str) -> None:
            with self._lock:
                state = self._progress.get(key)
                if state is not None and state.running:
                    state.fraction, state.message = min(max(float(fraction), 0.0), 1.0), message

        return update

    def progress(self, db: Database, session_id: str) -> RunProgress | None:
        """A copy of the session's running (or last ended) run's progress, or None."""
        with self._lock:
            state = self._progress.get((db.path, session_id))
            return replace(state) if state is not None else None

    def pending(self) -> int:
        with self._lock:
            return len(self._timers) + len(self._running)

    def wait_idle(self, timeout: float = 30.0) -> bool:
        """Block until no timer or run is pending (tests, shutdown)."""
        import time

        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.pending() == 0:
                return True
            time.sleep(0.05)
        return self.pending() == 0

    def cancel_all(self) -> None:
        with self._lock:
            for t in self._timers.values():
                t.cancel()
            self._timers.clear()


scheduler = RefreshScheduler()


def request(db: Database, session_id: str, reason: str) -> None:
    """Schedule a debounced refresh; never raises (the caller is a participant's or creator's action)."""
    if not _enabled():
        return
    try:
        scheduler.request(db, session_id, reason)
    except Exception:
        log.exception("could not schedule synthesis for session %s", session_id)


def start(db: Database, session_id: str, trigger: str, job: Callable[[Progress], object]) -> bool:
    """Start `job(progress)` in the background now (see RefreshScheduler.start); works with automatic refresh off."""
    return scheduler.start(db, session_id, trigger, job)


def progress(db: Database, session_id: str) -> RunProgress | None:
    return scheduler.progress(db, session_id)


def participant_finished(db: Database, session_id: str) -> None:
    request(db, session_id, "participant finished")


def session_closed(db: Database, session_id: str) -> None:
    request(db, session_id, "session closed")
