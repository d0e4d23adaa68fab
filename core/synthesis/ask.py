"""Ask the data, offline: the statements and themes closest in wording to a question (TF-IDF cosine).

No model interprets anything here: the answer lists what was said, with citations, and says so. Model mode
writes an answer from the same retrieved quotes (so its prompt size is bounded by `top`, not by N).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.feature_extraction.text import TfidfVectorizer

from core.synthesis.labels import STOP
from core.text import plural


@dataclass
class Citation:
    ref: str
    statement_id: str
    message_id: str
    participant_id: str
    text: str
    theme_label: str | None
    score: float


@dataclass
class AskAnswer:
    question: str
    answer: str
    citations: list[Citation] = field(default_factory=list)
    themes: list[tuple[str, float]] = field(default_factory=list)   # (label, relevance)
    mode: str = "offline"


def retrieve(question: str, statements: pd.DataFrame, labels: dict[str, str], top: int = 6) -> AskAnswer:
    question = (question or "").strip()
    if not question or statements.empty:
        return AskAnswer(question, "Ask a question about what participants said.")
    texts = statements["text"].tolist()
    vec = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, stop_words=STOP, token_pattern=r"(?u)\b\w\w+\b")
    try:
        matrix = vec.fit_transform(texts + [question])
    except ValueError:
        return AskAnswer(question, "Nothing in the answers matches the words of this question.")
    sims = (matrix[:-1] @ matrix[-1].T).toarray().ravel()
    order = np.lexsort((statements["statement_id"].to_numpy(), -sims))
    cites, seen = [], set()
    for i in order:
        if sims[i] <= 0 or len(cites) >= top:
            break
        r = statements.iloc[i]
        said = " ".join(re.findall(r"\w+", r["text"].casefold()))   # "Too many meetings." is "too many meetings"
        if said in seen:
            continue
        seen.add(said)
        cites.append(Citation(f"[{len(cites) + 1}]", r["statement_id"], r["message_id"], r["participant_id"],
                              r["text"], labels.get(r["theme_id"]) if r["theme_id"] else None, float(sims[i])))
    theme_scores = pd.Series(sims, index=statements["theme_id"].fillna("")).groupby(level=0).sum()
    theme_scores = theme_scores[(theme_scores > 0) & (theme_scores.index != "")].sort_values(ascending=False)
    themes = [(labels.get(t, t), round(float(s), 3)) for t, s in theme_scores.head(3).items()]
    if not cites:
        return AskAnswer(question, "No statement shares words with this question. Try other words.", [], themes)
    theme_text = ", ".join(f"“{lbl}”" for lbl, _ in themes) or "none"
    answer = (f"Offline search (no AI model): the {plural(len(cites), 'statement')} closest in wording to the "
              f"question, mostly in {'the theme' if len(themes) == 1 else 'the themes'} {theme_text}. Read them below; "
              "they are quoted verbatim.")
    return AskAnswer(question, answer, cites, themes)
