"""The seeded demo's themes, as a person reading them would judge: `python -m bench.demo_themes [--participants 30]`.

Seeds the demo (core.demo.seed_demo: 30 simulated participants of the retrospective template, offline synthesis) in a
temporary database and prints each theme (name, people, statements, stability, three statements), then how far the
statements' themes agree with the topic of the answer each came from (NMI). The topics are a reference coding of
the demo's answer bank (data/demo/retrospective_answers.json) by keyword, written with the bank: on-call, deploys,
meetings, customers, priorities, pairing; "none" for the rest. It is rough (first match wins), so read the figure
as a comparison between versions of the pipeline, not as an absolute score.
"""

from __future__ import annotations

import argparse
import re
import tempfile
from pathlib import Path

from sklearn.metrics import normalized_mutual_info_score

from bench._setup import machine_info
from core.db import open_database
from core.demo import seed_demo
from core.repos import synthesis as repo

TOPICS = [("on-call", r"on-call|on call|pag(e|ed|er|es)\b|alert|night|rotation|sleep"),
          ("deploys", r"deploy|pipeline|build|\bci\b|release|staging|test|queue|production|merge"),
          ("meetings", r"meeting|calendar|focus|standup|sync|status update|concentrat|written|asynchron"),
          ("customers", r"customer|user|feedback|support|beta|prospect"),
          ("priorities", r"priorit|goal|urgent|leadership|roadmap|objective|plan|ticket|director|requests"),
          ("pairing", r"pair|collaborat|help|review|mob|people|team|new hire|knowledge")]


def topic(answer: str) -> str:
    text = answer.lower()
    return next((name for name, pattern in TOPICS if re.search(pattern, text)), "none")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--participants", type=int, default=30)
    args = parser.parse_args()
    print(machine_info())
    with tempfile.TemporaryDirectory(prefix="harmonica_demo_") as tmp:
        db = open_database(Path(tmp) / "demo.duckdb")
        demo = seed_demo(db, participants=args.participants)
        run = repo.latest_run(db, demo.session_id)
        themes = repo.themes_frame(db, run.id)
        st = repo.statements_frame(db, run.id)
        for t in themes.itertuples():
            members = st[st["theme_id"] == t.theme_id]
            stability = "" if t.stability != t.stability else f", stability {t.stability:.2f}"
            print(f"\n{t.label} ({t.participants} people, {t.mentions} statements{stability})")
            for text in members.sort_values("score", ascending=False)["text"].head(3):
                print(f"  - {text[:110]}")
        placed = st[st["theme_id"].notna()]
        answers = repo.message_contents(db, list(dict.fromkeys(placed["message_id"])))
        truth = [topic(answers[m]) for m in placed["message_id"]]
        nmi = normalized_mutual_info_score(truth, placed["theme_id"])
        print(f"\n{len(themes)} themes ({run.stats.get('k_reason', '')[:80]}...)")
        print(f"NMI between statements' themes and their answers' topics: {nmi:.3f} ({len(placed)} statements)")
        db.close()


if __name__ == "__main__":
    main()
