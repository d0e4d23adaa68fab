"""Offline sentiment: a small English lexicon with negation; honest and coarse (positive/neutral/negative).

Words are counted +1/-1; a negation ("not", "never", "n't", "no") within the two previous words flips the
sign. Statements scoring above 0 are positive, below 0 negative. Model mode may judge instead.
"""

from __future__ import annotations

import re

POSITIVE = set("""good great excellent helpful helped helps love loved like liked enjoy enjoyed happy glad clear clearer
easy easier fast faster quick quicker smooth better best improve improved improvement improving useful valuable
support supported supportive appreciate appreciated success successful successfully fun nice amazing awesome
fantastic wonderful positive productive efficient effective works working worked fixed safe safer
proud trust trusted friendly calm fair benefit benefits welcome agree recommend solid reliable convenient
affordable accessible beautiful clean cleaner thriving strong stronger excited exciting well""".split())
NEGATIVE = set("""bad worse worst poor slow slower broken break breaks fail failed fails failure problem problems
issue issues hard harder difficult confusing confused unclear frustrating frustrated annoying annoyed hate
hated terrible awful horrible painful pain stress stressful stressed tired overwhelmed late delay delayed delays
blocked blocker blockers bug bugs crash crashes lack lacking missing lost waste wasted expensive unsafe dangerous
dirty crime angry sad worried worry concern concerns concerned risk risky chaos chaotic mess messy unfair
disappointed disappointing ignored nobody never neglected rushed overload overloaded burnout unhappy struggle
struggled struggling toxic noisy traffic congestion""".split())
NEGATIONS = {"not", "no", "never", "hardly", "without", "nor", "cannot", "isnt", "wasnt", "dont", "didnt",
             "doesnt", "arent", "werent", "wont", "cant", "couldnt", "shouldnt"}
_WORD = re.compile(r"[a-z']+")


def score(text: str) -> int:
    words = [w.replace("'", "").replace("’", "") for w in _WORD.findall(text.lower())]
    total = 0
    for i, w in enumerate(words):
        value = 1 if w in POSITIVE else -1 if w in NEGATIVE else 0
        if value and any(p in NEGATIONS or p.endswith("nt") and p[:-2] in {"is", "was", "do", "did", "does", "are",
                                                                            "were", "could", "should", "would"}
                         for p in words[max(0, i - 2):i]):
            value = -value
        total += value
    return total


def label(text: str) -> str:
    s = score(text)
    return "positive" if s > 0 else "negative" if s < 0 else "neutral"
