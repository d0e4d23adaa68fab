"""Same answers and seed, same themes, whatever the thread counts (issue 14).

The offline pipeline runs in fresh processes with 1 and with 2 threads for BLAS, OpenMP (scikit-learn) and the
embedding model: every statement must land in a theme of the same name, with the same counts and stability.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

RUN = """
import hashlib, os, sys
import core.synthesis.embed as embed
embed.THREADS = int(sys.argv[2])                      # onnxruntime's intra-op threads
from core.accounts import register
from core.db import open_database
from core import results
from core.synthesis.pipeline import synthesize
from tests.helpers import launched_session
from tests.synthesis.helpers import add_participants, topic_answers

db = open_database(sys.argv[1])
owner = register(db, "alice", "alice@example.org", "Alice", "correct horse", "correct horse")
session = launched_session(db, owner)
add_participants(db, session, topic_answers(160)[0])
synthesize(db, [session.id])
view = results.open(db, owner, session.id).synthesis_view()
labels = {t.theme_id: t.label for t in view.themes}           # theme ids are new in every run; names are not
placed = view.statements.assign(theme=view.statements["theme_id"].map(labels).fillna("(none)"))
themes = "|".join(f"{t.label}:{t.participants}:{t.mentions}:{t.stability}" for t in view.themes)
print(hashlib.sha256((themes + "".join(sorted(placed["text"] + "→" + placed["theme"]))).encode()).hexdigest())
print(themes)
"""


def run(tmp_path: Path, threads: int) -> list[str]:
    env = {**os.environ, "OMP_NUM_THREADS": str(threads), "OPENBLAS_NUM_THREADS": str(threads),
           "MKL_NUM_THREADS": str(threads), "HARMONICA_AUTO_SYNTHESIS": "0", "HARMONICA_BACKUP_EVERY_H": "0",
           "HARMONICA_SECRETS_DIR": str(tmp_path / f"secrets{threads}")}
    env.pop("HARMONICA_EMBEDDER", None)
    done = subprocess.run([sys.executable, "-c", RUN, str(tmp_path / f"t{threads}.duckdb"), str(threads)], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout.split("\n", 1)


def test_themes_do_not_depend_on_thread_counts(tmp_path):
    one, two = run(tmp_path, 1), run(tmp_path, 2)
    assert one[1].count("|") >= 2, one[1]              # a real result: several themes
    assert one == two
