"""Theme labels offline: a short phrase in participants' own words, taken from the theme's most central statements.

- Term weights: class-based TF-IDF (c-TF-IDF, as in BERTopic) over word stems — all statements of a theme form one
  document; a term's weight is its frequency in that theme times log(1 + average words per theme / its frequency
  across all themes) — times the share of the theme's statements that use it. Words a facilitator's question put in
  participants' mouths (and other words the feature cleaner dropped) weigh nothing.
- Candidates: every run of 1-7 words inside one clause of the theme's most central statements (CANDIDATE_STATEMENTS,
  by similarity to the theme's centre), starting on a content word or a qualifier ("too many", "no", "fewer"),
  ending on a content word, without a dropped word. The best candidate by weight (a phrase of 2-5 words preferred,
  a more central statement preferred) is the label, exactly as written; the label's statement is shown as the
  theme's first quote (pipeline._pick_quotes), so the label always reads in its quotes.
- Never "A · b" keyword pairs. `make_label` (a keyphrase alone) is only the fallback when no statement is at hand.
The description names the top keyphrases and where the theme was raised.
"""

from __future__ import annotations

import functools
import math
import re
from collections import Counter
from dataclasses import dataclass, field

import numpy as np
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, CountVectorizer

_VAGUE = {"think", "really", "just", "like", "lot", "things", "thing", "people", "way", "feel", "make", "bit",
          "actually", "pretty", "quite", "kind", "sort", "maybe", "got", "going", "want", "need", "know", "said",
          "say", "did", "does", "doing", "don", "didn", "isn", "also", "would", "could", "should", "one", "get",
          "much", "many", "well", "even", "still", "yes", "ok", "okay", "time", "good", "better", "bad", "real",
          "gets", "took", "told", "went", "came", "honestly", "mostly", "basically", "probably", "definitely",
          "overall", "totally", "literally", "guess"}
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


def ctfidf_keywords(texts_by_theme: list[list[str]], top: int = 6, banned: set[str] | frozenset[str] = frozenset()
                    ) -> list[list[str]]:
    """Keyphrases per theme; a phrase with a `banned` word (stem) is left out."""
    docs = [" ".join(texts) for texts in texts_by_theme]
    if not any(d.strip() for d in docs):
        return [[] for _ in docs]
    try:
        vec = CountVectorizer(analyzer=_keyphrase_terms)
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
        out.append([terms[i] for i in order[:top * 6] if row[i] > 0
                    and not (banned and any(stem(w) in banned for w in terms[i].split()))][:top * 3])
    return [_distinct(words, top) for words in out]


_KEY_WORD = re.compile(r"[^\W\d_]{3,}")
_STOP_SET = frozenset(STOP) | {"couldn", "wouldn", "shouldn", "wasn", "weren", "aren", "haven", "hasn", "doesn"}


def _keyphrase_terms(doc: str) -> list[str]:
    """Content words and pairs of content words written side by side in one clause. (A vectorizer's own n-grams
    pair words across the stop words and punctuation it removed: "habit of writing. Decisions" gave "habit writing"
    and "writing decisions", which no one wrote.)"""
    terms: list[str] = []
    for piece in _CLAUSE_PUNCT.split(doc.lower()):
        prev = None
        for word in re.findall(r"\w+", piece):
            if not _KEY_WORD.fullmatch(word) or word in _STOP_SET:
                prev = None
                continue
            terms.append(word)
            if prev:
                terms.append(f"{prev} {word}")
            prev = word
    return terms


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
    """The top keyphrase alone (never a pair): the fallback when no statement can name the theme."""
    if not keywords:
        return fallback
    label = keywords[0]
    return label[:1].upper() + label[1:]


def make_description(keywords: list[str], steps: list[str]) -> str:
    words = ", ".join(keywords[:4]) if keywords else "no distinctive words"
    where = Counter(s for s in steps if s).most_common(1)
    tail = f"; mostly in answers to “{_short(where[0][0])}”" if where else ""
    return f"Statements about {words}{tail}."


def _short(text: str, n: int = 70) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[:n - 1].rsplit(" ", 1)[0] + "…"


# ------------------------------------------------------------------------------------------ phrase labels

CANDIDATE_STATEMENTS = 8
MAX_LABEL_WORDS = 7
# may start a label although they are function words: "Too many meetings", "No direct channel", "Fewer meetings"
QUALIFIERS = {"too", "many", "more", "less", "fewer", "no", "not", "never", "much", "few", "enough", "every", "all",
              "most", "only", "always", "full", "first", "last", "own", "same", "other"}
_LABEL_STOP = set(STOP) | {"honestly", "basically", "probably", "definitely", "certainly", "perhaps", "mostly",
                           "overall", "maybe", "lots", "stuff", "guess", "sure", "mean", "im", "ive", "id", "dont",
                           "didnt", "doesnt", "isnt", "wasnt", "weren", "wasn", "aren", "couldn", "wouldn", "shouldn",
                           "won", "ll", "ve", "re"}
_TOKEN = re.compile(r"[^\W\d_][\w'’-]*")
# clause boundaries: punctuation, and words that start a new clause
_CLAUSE_PUNCT = re.compile(r"[.,;:!?()\[\]\"“”…]|\s[-–—]\s")
_CLAUSE_WORDS = {"and", "but", "because", "so", "which", "when", "while", "although", "though", "since", "if", "as",
                 "then", "or", "until", "where", "whereas", "whether", "unless", "that"}


@functools.lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    """A crude, deterministic stem for matching words across forms (meetings → meeting, priorities → priority)."""
    w = word.lower().replace("’", "'")
    if w.endswith("'s"):
        w = w[:-2]
    w = w.strip("'-")
    if len(w) > 4 and w.endswith("ies"):
        return w[:-3] + "y"
    if len(w) > 3 and w.endswith("s") and not w.endswith(("ss", "us", "is")):
        return w[:-1]
    return w


@functools.lru_cache(maxsize=200_000)
def _content(word: str) -> bool:
    w = word.lower().replace("’", "'")
    return (len(w) > 2 and w not in _LABEL_STOP and w.replace("'", "") not in _LABEL_STOP
            and w.split("'")[0] not in _LABEL_STOP)      # "there's", "we've", "don't"


@dataclass
class PhraseLabel:
    text: str                      # the label, exactly as written (first letter capitalised)
    source: int | None             # index in the theme's statements of the statement it comes from
    keywords: list[str] = field(default_factory=list)


def term_weights(texts_by_theme: list[list[str]], banned: set[str] | frozenset[str] = frozenset()) -> list[dict]:
    """Per theme: stem -> c-TF-IDF weight × share of the theme's statements using it (0 for banned stems)."""
    counts = []
    docfreq = []
    for texts in texts_by_theme:
        c: Counter = Counter()
        d: Counter = Counter()
        for t in texts:
            stems = [stem(w) for w in _TOKEN.findall(t) if _content(w)]
            c.update(stems)
            d.update(set(stems))
        counts.append(c)
        docfreq.append(d)
    total: Counter = Counter()
    for c in counts:
        total.update(c)
    words = sum(total.values())
    avg = words / max(len(texts_by_theme), 1)
    out = []
    for texts, c, d in zip(texts_by_theme, counts, docfreq):
        n_words = sum(c.values()) or 1
        n = max(len(texts), 1)
        out.append({w: (0.0 if w in banned else (f / n_words) * math.log1p(avg / total[w]) * (d[w] / n))
                    for w, f in c.items()})
    return out


def _clauses(text: str) -> list[list[tuple[str, int, int]]]:
    """Words with their spans, grouped into clauses."""
    out: list[list[tuple[str, int, int]]] = []
    pos = 0
    pieces = []
    for m in _CLAUSE_PUNCT.finditer(text):
        pieces.append((pos, m.start()))
        pos = m.end()
    pieces.append((pos, len(text)))
    for a, b in pieces:
        clause: list[tuple[str, int, int]] = []
        for m in _TOKEN.finditer(text, a, b):
            word = m.group(0)
            if word.lower() in _CLAUSE_WORDS and clause:
                out.append(clause)
                clause = []
                continue
            clause.append((word, m.start(), m.end()))
        if clause:
            out.append(clause)
    return out


def phrase_label(texts: list[str], centrality: list[float], weights: dict[str, float],
                 banned: set[str] | frozenset[str] = frozenset(), avoid: set[str] | frozenset[str] = frozenset()
                 ) -> PhraseLabel | None:
    """The best short phrase of the most central statements (see the module's docstring), or None.
    `avoid`: labels (lower case) not to give again (a sibling's, the parent's)."""
    if not texts:
        return None
    order = sorted(range(len(texts)), key=lambda i: (-centrality[i], i))[:CANDIDATE_STATEMENTS]
    top = max(weights.values(), default=0.0)
    if top <= 0:
        return None
    best: tuple[float, int, int, str] | None = None
    for rank, i in enumerate(order):
        text = texts[i]
        closeness = 1.0 - 0.5 * rank / max(len(order), 1)
        seen: set[str] = set()
        for clause in _clauses(text):
            for a in range(len(clause)):
                first = clause[a][0]
                if not (_content(first) or first.lower() in QUALIFIERS):
                    continue
                if a and first.lower() in QUALIFIERS and clause[a - 1][0].lower() in QUALIFIERS:
                    continue    # "too many meetings", never "many meetings" cut out of it
                score_words = 0.0
                content_words = 0
                for b in range(a, min(len(clause), a + MAX_LABEL_WORDS)):
                    word = clause[b][0]
                    s = stem(word)
                    if s in banned:
                        break
                    if _content(word):
                        if s not in seen:
                            score_words += weights.get(s, 0.0) / top
                        content_words += 1
                    if not _content(word) or score_words <= 0:
                        continue
                    n_words = b - a + 1
                    shape = 0.75 if n_words == 1 else 1.0 if n_words <= 5 else 0.85
                    # a phrase made of many weak words is not better than one strong word
                    lead = 1.05 if first.lower() in QUALIFIERS else 1.0
                    # a whole short clause reads as a complete thought ("Priorities kept changing"); a phrase cut
                    # after a weak word does not ("Release process was the main")
                    whole = 1.25 if b == len(clause) - 1 and all(not _content(w) and w.lower() not in QUALIFIERS
                                                                   for w, _, _ in clause[:a]) else \
                        1.1 if b == len(clause) - 1 else 1.0
                    tail = 1.0 if weights.get(s, 0.0) >= 0.15 * top else 0.8
                    score = score_words / content_words ** 0.4 * shape * closeness * lead * whole * tail
                    phrase = text[clause[a][1]:clause[b][2]]
                    low = phrase.lower()
                    if any(low in other or other in low for other in avoid):
                        continue        # a sibling's or the parent's label, or part of it
                    key = (score, -n_words, -rank)
                    if best is None or key > best[:3]:
                        best = (score, -n_words, -rank, phrase, i)  # type: ignore[assignment]
    if best is None:
        return None
    phrase, source = best[3], best[4]  # type: ignore[misc]
    keywords = [w for w, _ in sorted(weights.items(), key=lambda kv: (-kv[1], kv[0]))[:6] if _ > 0]
    return PhraseLabel(phrase[:1].upper() + phrase[1:], source, keywords)


def theme_labels(texts_by_theme: list[list[str]], centrality_by_theme: list[list[float]],
                 banned: set[str] | frozenset[str] = frozenset(), avoid: set[str] | frozenset[str] = frozenset()
                 ) -> list[PhraseLabel | None]:
    """A phrase label per theme, weighed against the other themes given; two themes never get the same phrase."""
    weights = term_weights(texts_by_theme, banned)
    out: list[PhraseLabel | None] = []
    taken = {a.lower() for a in avoid}
    for texts, cent, w in zip(texts_by_theme, centrality_by_theme, weights):
        label = phrase_label(texts, cent, w, banned, taken)
        if label is not None:
            taken.add(label.text.lower())
        out.append(label)
    return out


# Past forms and adverbs end a clause in participants' words ("Priorities kept", "Requests quickly") but not a name
_NOT_A_NAME_END = re.compile(r"(?:ed|ly)$|^(?:kept|made|took|went|got|felt|left|found|gave|came|brought|thought|told|"
                             r"held|ran|saw|knew|became|began|wrote|spent|lost|put|set|let|meant|seemed)$")


def name_pieces(label: str) -> list[str]:
    """The pieces of one or two words of `label` that can stand as a name, as written: a content word, or a content
    word or qualifier followed by a content word ("Pull requests", "No habit"); never across a clause, never with a
    past form or an adverb ("Priorities kept", "Requests quickly")."""
    def fits(word: str) -> bool:
        return _content(word) and not _NOT_A_NAME_END.search(word.lower())

    pieces = []
    for clause in _clauses(label):
        words = [label[a:b] for _, a, b in clause]
        for i, word in enumerate(words):
            if fits(word):
                pieces.append(word)
            lead = fits(word) or word.lower() in QUALIFIERS or (_content(word) and word.lower().endswith("ly"))
            if i + 1 < len(words) and lead and fits(words[i + 1]):     # "Quarterly goals", never "Requests quickly"
                pieces.append(f"{word} {words[i + 1]}")
    return pieces


@dataclass
class ThemeText:
    label: str | None            # a phrase label, or None when no statement yields one
    keywords: list[str]
    description: str
    source: str | None = None    # the statement id the label comes from


def describe_themes(statements, theme_ids: list[str], banned: set[str] | frozenset[str] | None = None
                    ) -> dict[str, ThemeText]:
    """Label, keyphrases and description of each theme in `theme_ids`, from a statements frame (text, score =
    similarity to the theme's centre, question, theme_id; session_id and step to find the facilitator's words).
    `banned`: stems never to use (default: those units.feature_texts drops from this frame)."""
    from core.synthesis.units import clean_text, feature_texts

    if banned is None:
        banned = feature_texts(statements).banned if len(statements) else set()
    groups = [statements[statements["theme_id"] == t] for t in theme_ids]
    texts = [[clean_text(x) for x in g["text"].tolist()] for g in groups]
    cents = [[float(v) for v in g["score"].tolist()] if "score" in g.columns else [0.0] * len(g) for g in groups]
    keywords = ctfidf_keywords(texts, banned=banned)
    labels = theme_labels(texts, cents, banned)
    out = {}
    for tid, g, kw, lab in zip(theme_ids, groups, keywords, labels):
        source = g["statement_id"].iloc[lab.source] if lab is not None and "statement_id" in g.columns else None
        out[tid] = ThemeText(lab.text if lab else None, kw, make_description(kw, g["question"].tolist()
                                                                            if "question" in g.columns else []),
                             source)
    return out
