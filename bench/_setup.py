"""Shared helpers for the benchmarks: a temp database filled quickly with realistic sessions.

The user and the sessions are created through the core functions (registration, session design, launch);
participants, their form answers and their messages are bulk-loaded from pandas DataFrames through the
importer's own bulk insert (core.repos.synthesis.bulk_insert_import, which `python -m core import-responses` uses),
so the rows are stored exactly as an import stores them.

Text comes from the Polis comment files in /work/shared/data/polis/*/comments.csv when they are there,
otherwise from a small seeded vocabulary generator, so the figures do not depend on that folder.
"""

from __future__ import annotations

import csv
import json
import os
import platform
import random
import re
import shutil
import statistics
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Callable, Iterator

import duckdb
import pandas as pd

from core import db as dbmod
from core.accounts import register
from core.brief import Brief
from core.db import Database, open_database
from core.facilitation.offline import acknowledgement
from core.facilitation.offline import welcome as offline_welcome
from core.ids import new_id, new_token
from core.repos import participants as prepo
from core.repos import sessions as srepo
from core.repos.sessions import SessionRow
from core.repos.synthesis import bulk_insert_import
from core.repos.users import User
from core.sessions import SessionSettings, create_session, set_status
from core.templates import get_template
from core.text import count_tokens

POLIS_DIR = Path(os.environ.get("HARMONICA_POLIS_DIR", "/work/shared/data/polis"))
SEED = 20261126
BASE_TIME = datetime(2026, 11, 20, 9, 0, 0)



# --------------------------------------------------------------------------------------------- text


_SUBJECTS = ["the team", "our sprint", "the release", "the planning meeting", "the new process", "our manager",
             "the design review", "the on-call rotation", "the customer feedback", "the deploy pipeline",
             "the budget", "the roadmap", "the handover", "the test suite", "the city council", "the park",
             "public transport", "the library", "the neighbourhood", "the school board"]
_VERBS = ["helped", "slowed down", "confused", "surprised", "frustrated", "improved", "changed", "blocked",
          "supported", "shaped", "delayed", "clarified"]
_OBJECTS = ["our priorities", "the way we work", "most of the estimates", "communication across teams",
            "the quality of the code", "everyone's workload", "the final deadline", "how decisions get made",
            "the onboarding of new people", "trust in the plan", "the number of meetings", "local businesses",
            "bike lanes downtown", "the affordable housing plan"]
_TAILS = ["because nobody owned it", "which I did not expect", "more than last time", "in a good way",
          "and we should talk about it", "for the second time this year", "although it got better at the end",
          "so I would keep doing it", "and I think it needs a clear owner", "which made planning harder"]
_OPENERS = ["Honestly,", "I think", "For me,", "To be fair,", "In my view,", "Looking back,", "Mostly,", ""]


def _generated_sentence(rng: random.Random) -> str:
    opener = rng.choice(_OPENERS)
    body = f"{rng.choice(_SUBJECTS)} {rng.choice(_VERBS)} {rng.choice(_OBJECTS)} {rng.choice(_TAILS)}"
    text = f"{opener} {body}" if opener else body
    return text[0].upper() + text[1:] + "."


def load_polis_sentences(folder: Path = POLIS_DIR) -> list[str]:
    """Comment bodies from every comments.csv under `folder` (empty when the folder is missing)."""
    sentences: list[str] = []
    for path in sorted(folder.glob("*/comments.csv")) if folder.is_dir() else []:
        try:
            with path.open(encoding="utf-8", newline="") as fh:
                for row in csv.DictReader(fh):
                    body = re.sub(r"\s+", " ", (row.get("comment-body") or "")).strip()
                    if 3 <= len(body.split()) <= 60:
                        sentences.append(body if body[-1] in ".!?" else body + ".")
        except (OSError, csv.Error):
            continue
    return sentences


class TextBank:
    """Participant answers of 10-60 words (or thin ones), reproducible for a given seed."""

    def __init__(self, seed: int = SEED, use_polis: bool = True):
        self.rng = random.Random(seed)
        polis = load_polis_sentences() if use_polis else []
        self.source = f"polis comments ({len(polis)} sentences)" if polis else "generated vocabulary"
        self.sentences = polis or [_generated_sentence(random.Random(seed + i)) for i in range(2000)]

    def answer(self, low: int = 10, high: int = 60) -> str:
        target = self.rng.randint(low, high)
        words: list[str] = []
        while len(words) < target:
            words.extend(self.rng.choice(self.sentences).split())
        if len(words) > high:
            words = words[:high]
            words[-1] = words[-1].rstrip(",;:") + "."
        return " ".join(words)

    def thin(self) -> str:
        return self.rng.choice(["Not much.", "It was fine.", "Meetings, mostly.", "Hard to say.", "Okay I guess.",
                                "The deadlines.", "Good overall."])

    def chat_message(self, thin_share: float = 0.15, skip_share: float = 0.05) -> str:
        """What a participant types in a live chat: mostly full answers, some thin ones, a few skips."""
        roll = self.rng.random()
        if roll < skip_share:
            return "I don't know"
        if roll < skip_share + thin_share:
            return self.thin()
        return self.answer()


# ----------------------------------------------------------------------------------------- database


@contextmanager
def temp_database(prefix: str = "harmonica-bench-") -> Iterator[tuple[Database, Path]]:
    """A fresh database file in a temp dir, deleted afterwards (HARMONICA_BENCH_KEEP=1 keeps it)."""
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    path = folder / "bench.duckdb"
    try:
        yield open_database(path), path
    finally:
        dbmod.close_all()
        if os.environ.get("HARMONICA_BENCH_KEEP") != "1":
            shutil.rmtree(folder, ignore_errors=True)
        else:
            print(f"(kept {path})")


def reopen(path: Path) -> Database:
    """Close every open database and open `path` again: empty DuckDB buffer cache, a 'cold' start."""
    dbmod.close_all()
    return open_database(path)


def make_owner(db: Database, username: str = "bench") -> User:
    return register(db, username, f"{username}@example.org", "Bench Creator", "bench-password", "bench-password")


def make_session(db: Database, owner: User, name: str, template: str = "retrospective",
                 max_turns: int = 30) -> SessionRow:
    """A launched session from a template (its guide and pre-session form), through the core functions."""
    t = get_template(template)
    brief = Brief(name, t.brief.objective, t.brief.critical_items, t.brief.context)
    session = create_session(db, owner, brief, template_key=t.key, settings=SessionSettings(max_turns=max_turns))
    return set_status(db, owner, session.id, "launched")


def form_answers_for(session: SessionRow, db: Database, rng: random.Random) -> dict[str, str]:
    """Valid pre-session answers for the session's form (as a participant would fill them in)."""
    answers: dict[str, str] = {}
    for f in srepo.get_form(db, session.id):
        if f.type in ("single_choice",):
            answers[f.key] = rng.choice(f.options)
        elif f.type == "multiple_choice":
            answers[f.key] = [rng.choice(f.options)]
        elif f.type == "number":
            low, high = int(f.min if f.min is not None else 0), int(f.max if f.max is not None else 10)
            answers[f.key] = str(rng.randint(low, high))
        elif f.type == "consent":
            answers[f.key] = True
        elif f.type == "email":
            answers[f.key] = f"p{rng.randint(1, 10**6)}@example.org"
        else:
            answers[f.key] = "Some text"
    return answers


def _stored_form_value(field, value) -> str:
    if field.type == "multiple_choice":
        return json.dumps(value if isinstance(value, list) else [value])
    if field.type == "consent":
        return "yes"
    return str(value)


@dataclass(frozen=True)
class LoadStats:
    participants: int
    messages: int
    form_answers: int
    seconds: float


def bulk_load(db: Database, session: SessionRow, n_participants: int, n_messages: int, bank: TextBank,
              finished_share: float = 0.8, simulated_share: float = 0.0) -> LoadStats:
    """Add `n_participants` participants with `n_messages` messages each (facilitator/participant alternating).

    Each participant's conversation walks the session's guide: the facilitator asks the step's question,
    the participant answers, the facilitator probes or moves on. Form answers are filled for every field.
    """
    started = time.perf_counter()
    rng = bank.rng
    guide = srepo.get_guide_version(db, session.id, session.guide_version)
    steps = guide.steps
    form = srepo.get_form(db, session.id)
    first_number = max((p.number for p in prepo.list_participants(db, session.id)), default=0) + 1
    welcome = offline_welcome(session.language, session.name, len(steps))
    pairs = (n_messages + 1) // 2

    p_rows, a_rows, m_rows = [], [], []
    for i in range(n_participants):
        pid = new_id()
        start = BASE_TIME + timedelta(minutes=rng.randint(0, 5 * 24 * 60))
        finished = rng.random() < finished_share
        at = start
        last_step = 0
        for seq in range(1, n_messages + 1):
            pair = (seq - 1) // 2
            step = min(pair * len(steps) // max(pairs, 1), len(steps) - 1)
            first_of_step = pair == 0 or min((pair - 1) * len(steps) // max(pairs, 1), len(steps) - 1) != step
            at = at + timedelta(seconds=rng.randint(20, 180))
            if seq % 2 == 1:  # facilitator
                if seq == 1:
                    kind, text = "question", f"{welcome}\n\n{steps[step].question}"
                elif first_of_step:
                    kind, text = "question", f"{acknowledgement(session.language, step)} {steps[step].question}"
                else:
                    kind, text = "probe", steps[step].probe or steps[step].question
                m_rows.append((new_id(), pid, seq, "facilitator", kind, step, text, count_tokens(text), "offline",
                               at))
            else:
                roll = rng.random()
                if roll < 0.04:
                    kind, text = "skip", "Skip"
                else:
                    kind, text = "answer", bank.answer()
                m_rows.append((new_id(), pid, seq, "participant", kind, step, text, count_tokens(text), "offline",
                               at))
            last_step = step
        p_rows.append((pid, session.id, new_token(), first_number + i, None, "finished" if finished else "chatting",
                       session.guide_version, last_step, False, rng.random() < simulated_share, True, start,
                       at if finished else None))
        for f in form:
            a_rows.append((pid, f.key, _stored_form_value(f, form_answers_for_field(f, rng))))

    bulk_insert_import(db, p_rows, a_rows, m_rows)
    return LoadStats(len(p_rows), len(m_rows), len(a_rows), time.perf_counter() - started)


def form_answers_for_field(field, rng: random.Random):
    if field.type in ("single_choice", "multiple_choice"):
        return rng.choice(field.options)
    if field.type == "number":
        low, high = int(field.min if field.min is not None else 0), int(field.max if field.max is not None else 10)
        return rng.randint(low, high)
    if field.type == "consent":
        return True
    if field.type == "email":
        return f"p{rng.randint(1, 10**6)}@example.org"
    return "Some text"


def checkpoint(db: Database) -> None:
    """Fold the WAL into the file, as a long-running database would be (outside any transaction)."""
    with db.read() as cur:
        cur.execute("CHECKPOINT")


@dataclass(frozen=True)
class BuiltDatabase:
    owner: User
    sessions: list[SessionRow]
    participants: int
    messages: int
    seconds: float


def build_database(db: Database, layout: list[tuple[int, int]], bank: TextBank, owner: User | None = None,
                   name: str = "Bench session") -> BuiltDatabase:
    """One session per (participants, messages per participant) entry, bulk-loaded, then checkpointed."""
    started = time.perf_counter()
    owner = owner or make_owner(db)
    sessions, n_p, n_m = [], 0, 0
    for i, (participants, messages) in enumerate(layout, start=1):
        session = make_session(db, owner, f"{name} {i}")
        stats = bulk_load(db, session, participants, messages, bank)
        sessions.append(session)
        n_p, n_m = n_p + stats.participants, n_m + stats.messages
    checkpoint(db)
    return BuiltDatabase(owner, sessions, n_p, n_m, time.perf_counter() - started)


# ------------------------------------------------------------------------------------------ figures


def ms(seconds: float) -> float:
    return seconds * 1000.0


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of a non-empty list."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), int(-(-q * len(ordered) // 100))))
    return ordered[rank - 1]


def summary_ms(seconds: list[float]) -> dict[str, float]:
    return {
        "n": len(seconds),
        "mean": ms(statistics.fmean(seconds)),
        "p50": ms(percentile(seconds, 50)),
        "p95": ms(percentile(seconds, 95)),
        "p99": ms(percentile(seconds, 99)),
        "max": ms(max(seconds)),
    }


def format_summary(label: str, seconds: list[float]) -> str:
    s = summary_ms(seconds)
    return (f"{label}: n={s['n']}  mean={s['mean']:.1f} ms  p50={s['p50']:.1f} ms  p95={s['p95']:.1f} ms  "
            f"p99={s['p99']:.1f} ms  max={s['max']:.1f} ms")


def timed(fn: Callable, *args, **kwargs):
    started = time.perf_counter()
    result = fn(*args, **kwargs)
    return result, time.perf_counter() - started


def timed_cpu(fn: Callable, *args, **kwargs):
    """(result, wall seconds, process CPU seconds): CPU time is less disturbed by other work on the machine."""
    started, cpu_started = time.perf_counter(), time.process_time()
    result = fn(*args, **kwargs)
    return result, time.perf_counter() - started, time.process_time() - cpu_started


def machine_info() -> dict[str, str]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram = "unknown"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                ram = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
                break
    except OSError:
        pass
    return {
        "nproc": str(os.cpu_count()),
        "cpu": cpu,
        "ram": ram,
        "python": platform.python_version(),
        "duckdb": duckdb.__version__,
        "pandas": pd.__version__,
    }


def load_average() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "unknown"


def print_header(title: str) -> None:
    """Title, machine and load: other work on this small machine (e.g. a test run) skews every figure."""
    info = machine_info()
    print(f"== {title}")
    print(f"   machine: nproc={info['nproc']}  cpu={info['cpu']}  ram={info['ram']}  "
          f"python={info['python']}  duckdb={info['duckdb']}  pandas={info['pandas']}")
    print(f"   load average at start: {load_average()}")


def print_footer() -> None:
    print(f"   load average at end: {load_average()}")
