"""Theme labels offline: class-based TF-IDF (c-TF-IDF) keyphrases, as in BERTopic.

All statements of a theme form one document; a term's weight is its frequency in that theme times
log(1 + average words per theme / its frequency across all themes). The label joins the top two phrases
that do not repeat each other; the description names the top keyphrases and where the theme was raised.
"""

from __future__ import annotations

from collections import Counter

import numpy as np
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, CountVectorizer

_VAGUE = {"think", "really", "just", "like", "lot", "things", "thing", "people", "way", "feel", "make", "bit",
          "actually", "pretty", "quite", "kind", "sort", "maybe", "got", "going", "want", "need", "know", "said",
          "say", "did", "does", "doing", "don", "didn", "isn", "also", "would", "could", "should", "one", "get",
          "much", "many", "well", "even", "still", "yes", "ok", "okay", "time", "good", "better", "bad", "real",
          "gets", "got", "took", "told", "went", "came"}
# French and Spanish function words (the session languages besides English): never a theme on their own.
_FR = set("""au aux avec ce ces cette dans de des du elle elles en et eux il ils je la le les leur leurs lui ma mais
me meme mes moi mon ne nos notre nous on ou par pas pour qu que qui sa se ses son sur ta te tes toi ton tu un une
vos votre vous c d j l m n s t y ete etre avoir fait faire plus tres tout tous toutes aussi bien comme est sont
ont avait etait sera peu trop car donc alors quand si sans sous entre chez cela ca ceci été être très même ça où
était déjà""".split())
_ES = set("""al algo algunas algunos ante antes como con contra cual cuando de del desde donde durante el ella ellas
ellos en entre era es esa esas ese eso esos esta estaba estado estas este esto estos fue ha hay la las le les lo los
mas me mi mis mucho muy nada ni no nos nosotros o os otra otro para pero poco por porque que quien se sea ser si
sin sobre su sus tambien tanto te tiene todo todos tu un una uno unos y ya yo más también está están qué
cómo él sí""".split())
STOP = sorted(ENGLISH_STOP_WORDS | _VAGUE | _FR | _ES)


def ctfidf_keywords(texts_by_theme: list[list[str]], top: int = 6) -> list[list[str]]:
    docs = [" ".join(texts) for texts in texts_by_theme]
    if not any(d.strip() for d in docs):
        return [[] for _ in docs]
    try:
        vec = CountVectorizer(ngram_range=(1, 2), stop_words=STOP, token_pattern=r"(?u)\b[^\W\d_]{3,}\b")
        counts = vec.fit_transform(docs)
    except ValueError:
        return [[] for _ in docs]
    terms = np.array(vec.get_feature_names_out())
    tf = counts.toarray().astype(float)
    per_class = tf.sum(axis=1, keepdims=True)
    per_class[per_class == 0] = 1
    tf = tf / per_class
    avg_words = counts.sum() / max(len(docs), 1)
    idf = np.log1p(avg_words / np.maximum(np.asarray(counts.sum(axis=0)).ravel(), 1))
    weights = tf * idf
    out = []
    for row in weights:
        order = np.argsort(-row, kind="stable")
        out.append([terms[i] for i in order[:top * 3] if row[i] > 0])
    return [_distinct(words, top) for words in out]


def _distinct(words: list[str], top: int) -> list[str]:
    """Keep phrases that do not repeat each other; a two-word phrase replaces the single word it contains
    ("deploy pipeline" rather than "deploy")."""
    kept: list[str] = []
    for w in words:
        parts = set(w.split())
        overlap = [i for i, k in enumerate(kept) if parts & set(k.split())]
        if overlap:
            i = overlap[0]
            if len(parts) > len(kept[i].split()) and set(kept[i].split()) <= parts and len(overlap) == 1:
                kept[i] = w
            continue
        kept.append(w)
        if len(kept) == top:
            break
    return kept


def make_label(keywords: list[str], fallback: str) -> str:
    if not keywords:
        return fallback
    label = keywords[0] if len(keywords) == 1 else f"{keywords[0]} · {keywords[1]}"
    return label[:1].upper() + label[1:]


def make_description(keywords: list[str], steps: list[str]) -> str:
    words = ", ".join(keywords[:4]) if keywords else "no distinctive words"
    where = Counter(s for s in steps if s).most_common(1)
    tail = f"; mostly in answers to “{_short(where[0][0])}”" if where else ""
    return f"Statements about {words}{tail}."


def _short(text: str, n: int = 70) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[:n - 1].rsplit(" ", 1)[0] + "…"
