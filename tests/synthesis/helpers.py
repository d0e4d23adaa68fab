"""Small built datasets for synthesis tests: four topics with distinct vocabulary, bulk-loaded."""

from __future__ import annotations

import random

from core.clock import utcnow
from core.ids import new_id, new_token
from core.repos import sessions as srepo
from core.repos import synthesis as synrepo
from core.synthesis.models import NAME, OfflineSynthesis
from core.text import count_tokens

TOPICS = {
    "deploy": ["The deploy pipeline is slow and breaks every week", "Deploys to production take hours of waiting",
               "Our release pipeline fails on flaky builds", "The build server times out during deploys",
               "Rolling back a broken deploy takes the whole afternoon"],
    "meetings": ["Too many meetings eat the whole calendar", "Standup meetings run long and nobody listens",
                 "Meetings without an agenda waste our mornings", "Recurring status meetings should be cancelled",
                 "Back to back meetings leave no focus time"],
    "onboarding": ["New hires need a mentor during onboarding", "Onboarding documentation for newcomers is outdated",
                   "The onboarding checklist for new colleagues is missing steps",
                   "Newcomers struggle to find the onboarding guide", "A buddy system would help new hires settle in"],
    "coffee": ["The office coffee machine is always broken", "We need better coffee beans in the kitchen",
               "The kitchen coffee tastes burnt every morning", "Fresh coffee and tea in the kitchen would be lovely",
               "The espresso machine in the kitchen leaks water"],
}
OPENERS = ["Honestly, ", "I think ", "For me, ", "", "Also ", "Mostly "]


def sentence(topic: str, rng: random.Random) -> str:
    body = rng.choice(TOPICS[topic])
    opener = rng.choice(OPENERS)
    text = opener + (body[0].lower() + body[1:] if opener else body)
    return text[0].upper() + text[1:] + "."


def answers_for(topics: list[str], rng: random.Random) -> str:
    return " ".join(sentence(t, rng) for t in topics)


def add_participants(db, session, answers: list[list[str]], groups: list[str] | None = None,
                     field_key: str = "team") -> list[str]:
    """Bulk-add finished participants: answers[i] is the list of answer texts of participant i (one per step)."""
    start = db.fetchone("SELECT coalesce(max(number), 0) FROM participants WHERE session_id = ?", [session.id])[0]
    now = utcnow()
    guide = srepo.get_guide_version(db, session.id, session.guide_version)
    p_rows, m_rows, a_rows, i_rows, ids = [], [], [], [], []
    for i, texts in enumerate(answers):
        pid = new_id()
        ids.append(pid)
        p_rows.append((pid, session.id, new_token(), start + i + 1, None, "finished", session.guide_version,
                       0, False, False, True, now, now))
        i_rows.append((pid, None, i + 2))
        seq = 0
        for step, text in enumerate(texts):
            q = guide.steps[min(step, len(guide.steps) - 1)].question
            for role, kind, content in (("facilitator", "question", q), ("participant", "answer", text)):
                seq += 1
                m_rows.append((new_id(), pid, seq, role, kind, min(step, len(guide.steps) - 1), content,
                               count_tokens(content), "offline", now))
        if groups is not None:
            a_rows.append((pid, field_key, groups[i]))
    synrepo.bulk_insert_import(db, p_rows, a_rows, m_rows, i_rows)
    return ids


def topic_answers(n: int, seed: int = 1) -> tuple[list[list[str]], list[list[str]]]:
    """n participants, each raising one or two topics in their first answer; returns (answers, their topics)."""
    rng = random.Random(seed)
    names = list(TOPICS)
    answers, topics = [], []
    for i in range(n):
        chosen = [names[i % 4]] + ([names[(i + 1) % 4]] if rng.random() < 0.3 else [])
        answers.append([answers_for(chosen, rng)])
        topics.append(chosen)
    return answers, topics


# Four topics nobody could cluster differently: each participant says one of these, with a small variation.
TOPIC_TEXT = {
    "coffee": "The kitchen coffee machine is broken and the coffee tastes burnt",
    "meetings": "Too many meetings fill the calendar and the meetings run long",
    "deploy": "The deploy pipeline is slow and every deploy breaks the build",
    "onboarding": "Onboarding new hires takes weeks because the onboarding docs are outdated",
}
VARIANTS = ["", " this sprint", " again", " every week", " honestly", " for everyone"]


def said(topic: str, i: int) -> list[str]:
    return [TOPIC_TEXT[topic] + VARIANTS[i % len(VARIANTS)] + "."]


def topic_participants(db, session, n: int, start: int = 0, topic: str | None = None) -> tuple[list[str], list[str]]:
    names = list(TOPIC_TEXT)
    topics_ = [topic or names[(start + i) % 4] for i in range(n)]
    return add_participants(db, session, [said(t, start + i) for i, t in enumerate(topics_)]), topics_


def theme_of(view, word: str) -> str:
    """The theme holding most statements that contain `word`."""
    st = view.statements.dropna(subset=["theme_id"])
    hits = st[st["text"].str.lower().str.contains(word)]
    return hits["theme_id"].value_counts().index[0]


def labels(view) -> dict[str, str]:
    return {t.theme_id: t.label for t in view.themes}


class Naming(OfflineSynthesis):
    """Offline synthesis whose full runs name their themes with `name(themes, statements)`, where the model's
    names would go (the run stays offline)."""

    steps = frozenset({NAME})

    def __init__(self, name):
        self._name = name

    def name_themes(self, themes, statements) -> None:
        self._name(themes, statements)
