"""First-pass offline themes: key phrases counted by distinct participants.

Deliberately simple and exact: a theme is a key phrase (one or two words, stop words removed) and its
count is the number of distinct participants whose answers contain it. Clustered themes come later.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, CountVectorizer

MAX_THEMES = 8
QUOTES_PER_THEME = 3


@dataclass
class Theme:
    label: str
    participants: int
    mentions: int
    participant_ids: list[str] = field(default_factory=list)
    quotes: list[dict] = field(default_factory=list)   # {"participant_id", "message_id", "text"}


def _stem(word: str) -> str:
    # "meetings" and "meeting" count as one phrase; "process" stays.
    return word[:-1] if len(word) > 4 and word.endswith("s") and not word.endswith("ss") else word


# Words frequent in any conversation that never name a theme on their own.
_VAGUE = {"time", "people", "work", "thing", "things", "really", "lot", "just", "like", "think", "feel", "way",
          "good", "bad", "better", "make", "bit", "actually", "pretty", "quite", "kind", "sort", "maybe", "got",
          "going", "want", "need", "know", "said", "say", "did", "does", "doing", "don", "didn", "isn"}


def _analyzer(surface: dict[str, Counter]):
    base = CountVectorizer(stop_words=sorted(ENGLISH_STOP_WORDS | _VAGUE),
                           token_pattern=r"(?u)\b[^\W\d_]{3,}\b").build_analyzer()

    def analyze(text: str) -> list[str]:
        words = []
        for w in base(text):
            stem = _stem(w)
            surface[stem][w] += 1
            words.append(stem)
        return words + [f"{a} {b}" for a, b in zip(words, words[1:])]

    return analyze


def _label(term: str, surface: dict[str, Counter]) -> str:
    """Show each stem as the form people wrote most ("priorities", not "prioritie")."""
    return " ".join(surface[w].most_common(1)[0][0] if surface[w] else w for w in term.split())


def keyword_themes(answers: pd.DataFrame, max_themes: int = MAX_THEMES) -> list[Theme]:
    """Themes from a frame with columns participant_id, message_id, content."""
    if answers.empty:
        return []
    n_people = answers["participant_id"].nunique()
    min_people = 2 if n_people >= 4 else 1
    surface: dict[str, Counter] = defaultdict(Counter)
    vectorizer = CountVectorizer(analyzer=_analyzer(surface), binary=True)
    try:
        matrix = vectorizer.fit_transform(answers["content"].tolist()).tocsc()
    except ValueError:  # nothing but stop words
        return []
    terms = vectorizer.get_feature_names_out()
    people = answers["participant_id"].to_numpy()
    candidates = []
    for j, term in enumerate(terms):
        rows = matrix.indices[matrix.indptr[j]:matrix.indptr[j + 1]]
        distinct = np.unique(people[rows])
        # A phrase everyone uses ("team", "think") describes the question, not a theme.
        if len(distinct) < min_people or (n_people >= 5 and len(distinct) > 0.8 * n_people):
            continue
        candidates.append((len(distinct), " " in term, term, rows, distinct))
    # Most people first; at equal counts the two-word phrase wins ("deploy pipeline" over "deploy"), and a
    # word already used by a chosen phrase is not chosen again.
    candidates.sort(key=lambda c: (-c[0], not c[1], c[2]))

    themes: list[Theme] = []
    used_words: set[str] = set()
    for count, _is_pair, term, rows, distinct in candidates:
        words = set(term.split())
        if words & used_words:
            continue
        used_words |= words
        quotes = [
            {"participant_id": answers.iloc[r]["participant_id"], "message_id": answers.iloc[r]["message_id"],
             "text": answers.iloc[r]["content"]}
            for r in _one_per_person(rows, people)[:QUOTES_PER_THEME]
        ]
        themes.append(Theme(_label(term, surface), int(count), int(len(rows)), sorted(map(str, distinct)), quotes))
        if len(themes) >= max_themes:
            break
    return themes


def _one_per_person(rows: np.ndarray, people: np.ndarray) -> list[int]:
    seen, picked = set(), []
    for r in sorted(rows):
        if people[r] not in seen:
            seen.add(people[r])
            picked.append(int(r))
    return picked


def templated_summary(themes: list[Theme], included: int, finished: int) -> str:
    """A short, honestly worded summary of the keyword themes."""
    if included == 0:
        return "No one has answered yet. Share the link; results appear here as participants answer."
    if not themes:
        return (f"{included} participant(s) answered ({finished} finished), but no phrase recurs across them yet: "
                "themes appear once several people mention the same thing.")
    top = ", ".join(f"“{t.label}” ({t.participants} of {included})" for t in themes[:3])
    return (f"{included} participant(s) answered ({finished} finished). The phrases raised by the most people "
            f"were {top}. These are key phrases counted per distinct participant, computed offline without "
            "an AI model; read the quotes and transcripts before drawing conclusions.")
