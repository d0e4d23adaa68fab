"""What participants and the public see of a synthesis run: the audience-safe view.

Members of a session read its results in full. Participants (visibility "participants") and visitors of a public
link see one view only, built here, in which no participant's verbatim words appear unless the owner allowed
quotes for this audience (a session setting, off by default), and even then never words from a theme raised by
fewer than k distinct participants (k a session setting, default 3, never below 2): a small theme's quote points
at a person. Themes keep their names and counts.

What is withheld:
- the quotes of every theme (all of them when quotes are not allowed or not shown, else those of themes under k),
  and of its sub-themes alike; sub-themes of fewer than k people (their names are their few participants' words);
- a theme under k is named "Theme <n>", without description or keyphrases (all made of its few participants'
  words); a theme's name that is a phrase fewer than k participants wrote (offline names are taken from statements,
  model names are asked "in participants' own words"; a phrase k people wrote points at none of them) is replaced by
  a piece of one or two words of it, or its top keyphrase, unless the theme's quotes are shown; sub-themes alike,
  left out rather than renamed;
- in the summary and the theme descriptions: the templated summary's quote clauses, any quotation of three words
  or more that is not a theme's name, a facilitator's question or a quote shown to this audience, citations of
  quotes not shown, and any unquoted run of VERBATIM_WORDS words or more copied from a participant's statement;
- the run's statements (every answer) and the list of earlier runs.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections import OrderedDict
from dataclasses import dataclass, fields, replace
from typing import TYPE_CHECKING

import pandas as pd

from core.repos.sessions import SessionRow
from core.synthesis.labels import make_label, name_pieces, stem
from core.synthesis.summary import quote_clauses
from core.synthesis.theme_names import label_key, unique_labels

if TYPE_CHECKING:   # core.results imports this module
    from core.results import SynthesisView, ThemeView

MIN_AUDIENCE_PEOPLE = 2          # k is never below this
DEFAULT_AUDIENCE_PEOPLE = 3
VERBATIM_WORDS = 7               # an unquoted run of this many words of a statement counts as a quote
QUOTED_WORDS = 3                 # a quotation of this many words or more is treated as a participant's words
WITHHELD = "[quote withheld]"
# Up to this many statements, the unquoted check looks for copies in every statement of the run; above it (a large
# import), in the run's quotes only: what a model is shown to write the summary (the theme table and its quotes).
FULL_CORPUS_STATEMENTS = 20_000

_WORD = re.compile(r"\w+")
_QUOTED = re.compile(r"“([^”\n]+)”|\"([^\"\n]+)\"|«\s*([^»\n]+?)\s*»|„([^“”\n]+)[“”]")
_BRACKET = re.compile(r"\s*\[([^\[\]\n]{1,80})\]")
_QREF = re.compile(r"^Q\d+\.\d+$", re.IGNORECASE)
_ELLIPSIS = re.compile(r"\s*(?:…|\.\.\.)\s*")


@dataclass(frozen=True)
class QuotePolicy:
    """The owner's choice for participants and the public: may they see quotes, and from themes of how many."""

    allow: bool = False
    min_people: int = DEFAULT_AUDIENCE_PEOPLE

    @staticmethod
    def of(session: SessionRow) -> "QuotePolicy":
        """The session's setting (k raised to the minimum if a stored value is lower)."""
        k = session.audience_min_people if session.audience_min_people is not None else DEFAULT_AUDIENCE_PEOPLE
        return QuotePolicy(bool(session.audience_quotes), max(MIN_AUDIENCE_PEOPLE, int(k)))


def audience_view(view: "SynthesisView", policy: QuotePolicy, *, quotes: bool = True) -> "SynthesisView":
    """A copy of `view` (a core.results.SynthesisView) fit for participants and the public, under `policy`;
    `quotes=False` withholds every quote whatever the policy (a public link that does not show quotes)."""
    k = policy.min_people
    shown = {t.theme_id for t in view.themes if quotes and policy.allow and t.participants >= k}
    allowed = [q for t in view.themes if t.theme_id in shown for q in t.quotes]
    allowed_refs, allowed_texts = {q.ref for q in allowed}, [q.text for q in allowed]
    key = (view.run.id, view.run.summary, k, tuple(sorted(shown)), tuple(sorted(allowed_refs)),
           tuple((t.theme_id, t.label, t.description, tuple(t.keywords), t.participants) for t in view.themes))
    cached = _cache_get(key)
    if cached is None:
        said, questions = _sources(view)
        chosen: list[str] = []
        for t in view.themes:      # in order of size: a larger theme has first pick of a short name
            chosen.append(audience_label(t, k, t.theme_id in shown, said, {label_key(n) for n in chosen}))
        names = dict(zip([t.theme_id for t in view.themes], unique_labels(chosen)))
        renamed = {t.label: names[t.theme_id] for t in view.themes if names[t.theme_id] != t.label}
        labels = list(names.values())
        summary = scrub(view.run.summary, said, allowed_refs, allowed_texts, labels, questions, renamed)
        # a theme of fewer than k people keeps its counts; its description and keyphrases are its few participants'
        # own words, so they go with its name
        descriptions = {t.theme_id: scrub(t.description, said, allowed_refs, allowed_texts, labels, questions,
                                          renamed) if t.participants >= k else "" for t in view.themes}
        subthemes = {t.theme_id: audience_subthemes(t, k, t.theme_id in shown, said) for t in view.themes}
        cached = (names, summary, descriptions, subthemes)
        _cache_put(key, cached)
    names, summary, descriptions, subthemes = cached
    themes = [replace(t, label=names[t.theme_id], description=descriptions[t.theme_id],
                      keywords=list(t.keywords) if t.participants >= k else [],
                      quotes=list(t.quotes) if t.theme_id in shown else [],
                      subthemes=subthemes[t.theme_id]) for t in view.themes]
    changes = {"run": replace(view.run, summary=summary), "themes": themes, "runs": []}
    fields_ = {f.name for f in fields(view)}
    if "db" in fields_:
        changes["db"] = None            # nothing more can be read through the copy
    if "statements" in fields_:
        changes["statements"] = _no_statements()
    out = replace(view, **changes)
    if "statements" not in fields_:     # read lazily by the view: answer that read with no statement at all
        out.__dict__["statements"] = _no_statements()
    return out


def audience_label(theme: "ThemeView", k: int, quoted: bool, said: "Said", taken: set[str] = frozenset()) -> str:
    """The name an audience sees for a theme. Under k people: "Theme <n>" (any name of it is its few participants'
    words), but "Other" stays "Other". Else its own name, unless that is a phrase of QUOTED_WORDS+ words written by
    fewer than k participants while the theme's quotes are not shown (a phrase k people wrote points at none of
    them): then a piece of one or two words of it ("Pull requests" for "Reviewed each other's pull requests quickly";
    see _short_name), else its top keyphrase, else "Theme <n>". `taken`: names of other themes (label_key) a short
    name must not repeat."""
    neutral = f"Theme {theme.position + 1}"
    if theme.participants < k:
        return theme.label if theme.origin == "other" and theme.label == "Other" else neutral   # no one's words
    words = _words(theme.label)
    people = said.people(" ".join(words))
    if quoted or len(words) < QUOTED_WORDS or not 0 < people < k:
        return theme.label
    short = _short_name(theme, said, taken)
    if short:
        return short
    keys = [kw for kw in theme.keywords if len(_words(kw)) < QUOTED_WORDS and label_key(kw) not in taken]
    return make_label(keys, neutral)


def _short_name(theme: "ThemeView", said: "Said", taken: set[str]) -> str | None:
    """A piece of one or two words of the theme's name (labels.name_pieces) that two or more of its participants
    wrote: the word of it that ranks first among the theme's keyphrases (else the one most of them wrote), or rather
    a pair of its words, unless that word was written by three times as many. None when there is no such piece."""
    pieces = [p for p in name_pieces(theme.label) if label_key(p) not in taken]
    people = {p: said.people(" ".join(_words(p)), theme.theme_id) for p in pieces}
    rank = {}
    ranked = [kw for kw in theme.keywords if " " not in kw] + [kw for kw in theme.keywords if " " in kw]
    for i, word in enumerate(w for kw in ranked for w in kw.split()):
        rank.setdefault(stem(word), i)
    # a word or two only one person wrote can still point at them (a name, a rare term): two writers at least
    singles = [p for p in pieces if " " not in p and people[p] >= MIN_AUDIENCE_PEOPLE]
    if not singles:
        return None
    word = min(singles, key=lambda p: (rank.get(stem(p), len(rank)), -people[p], theme.label.find(p)))
    pairs = [p for p in pieces if " " in p and people[p] >= MIN_AUDIENCE_PEOPLE and 3 * people[p] >= people[word]]
    # among pairs as often written, the one of better keyphrases, then the later one (English puts the head noun
    # last: "config value" rather than "single config")
    best = max(pairs, key=lambda p: (people[p], -sum(rank.get(stem(w), len(rank)) for w in p.split()),
                                     theme.label.find(p))) if pairs else word
    return best[:1].upper() + best[1:]


def audience_subthemes(theme: "ThemeView", k: int, quoted: bool, said: "Said") -> list:
    """The sub-themes an audience sees: only those of k people or more in a theme of k or more (a smaller one's
    name is its few participants' words); their quotes only when the theme's are shown; a name that is a phrase of
    fewer than k participants while they are not (as audience_label) leaves the sub-theme out."""
    if theme.participants < k:
        return []
    kept = []
    for sub in theme.subthemes:
        words = _words(sub.label)
        if sub.participants < k or (not quoted and len(words) >= QUOTED_WORDS
                                    and 0 < said.people(" ".join(words)) < k):
            continue
        kept.append(replace(sub, quotes=list(sub.quotes) if quoted else []))
    return kept


def _no_statements() -> pd.DataFrame:
    """An empty statements table (the audience gets no statement, so no answer)."""
    return pd.DataFrame(columns=["statement_id", "message_id", "participant_id", "session_id", "step", "question",
                                 "text", "theme_id"])


def scrub(text: str, said: "Said", allowed_refs: set[str], allowed_texts: list[str], labels: list[str],
          questions: list[str] = (), renamed: dict[str, str] | None = None) -> str:
    """`text` without participants' words an audience may not see (see the module docstring). `said` holds the
    statements to look for unquoted copies in (normalised once: a view scrubs its summary and every description
    against the same thousands of statements); `allowed_texts` (refs `allowed_refs`) are the quotes it may see;
    `renamed` maps theme names to the names the audience sees instead; a quotation of a theme's name as shown
    (`labels`) or of the facilitator's `questions` is not a participant's."""
    if not text:
        return text
    for old in sorted(renamed or {}, key=len, reverse=True):
        text = text.replace(old, renamed[old])
    allowed_norm = _joined(allowed_texts)
    question_norm = _joined(questions)
    label_norm = {" ".join(_words(label)) for label in labels}
    for pattern in quote_clauses():     # the templated summary's ", for example: “…” [Q1.1]"
        text = pattern.sub(lambda m: m.group(0) if m.group("ref") in allowed_refs else "", text)

    def quotation(m: re.Match) -> str:
        inner = next(g for g in m.groups() if g is not None)
        words = _words(inner)
        if len(words) < QUOTED_WORDS or " ".join(words) in label_norm:
            return m.group(0)
        pieces = [" ".join(_words(p)) for p in _ELLIPSIS.split(inner)]
        if all(f" {p} " in allowed_norm for p in pieces if p) or all(f" {p} " in question_norm for p in pieces if p):
            return m.group(0)
        return WITHHELD

    text = _QUOTED.sub(quotation, text)
    text = _drop_refs(text, allowed_refs)
    return _drop_verbatim(text, said.joined, allowed_norm + _joined(labels))


def _drop_refs(text: str, allowed_refs: set[str]) -> str:
    """Remove citations of quotes the audience does not see ([Q2.1], or Q refs inside [T2, Q2.1])."""

    def bracket(m: re.Match) -> str:
        tokens = [t for t in re.split(r"[\s,;]+", m.group(1).strip()) if t]
        if not any(_QREF.match(t) for t in tokens):
            return m.group(0)
        kept = [t for t in tokens if not _QREF.match(t) or t.upper() in allowed_refs]
        return f" [{', '.join(kept)}]" if kept else ""

    return _BRACKET.sub(bracket, text)


def _drop_verbatim(text: str, corpus: str, allowed: str) -> str:
    """Replace each unquoted run of VERBATIM_WORDS+ words found in `corpus` (and not in `allowed`) by WITHHELD."""
    matches = list(_WORD.finditer(text))
    words = [_fold(m.group(0)) for m in matches]
    hit = [False] * len(words)
    for i in range(len(words) - VERBATIM_WORDS + 1):
        phrase = " " + " ".join(words[i:i + VERBATIM_WORDS]) + " "
        if phrase in corpus and phrase not in allowed:
            hit[i:i + VERBATIM_WORDS] = [True] * VERBATIM_WORDS
    out, pos, i = [], 0, 0
    while i < len(words):
        if not hit[i]:
            i += 1
            continue
        j = i
        while j + 1 < len(words) and hit[j + 1]:
            j += 1
        out += [text[pos:matches[i].start()], WITHHELD]
        pos = matches[j].end()
        i = j + 1
    out.append(text[pos:])
    return "".join(out)


class Said:
    """The statements an audience's view is checked against, normalised once: who wrote which words, in which theme."""

    def __init__(self, texts: list[str], participants: list[str] = (), themes: list[str] = ()) -> None:
        """`participants` and `themes`: who wrote each of `texts` and in which theme (none: only `joined` is read)."""
        lines = [" " + " ".join(_words(t)) + " " for t in texts]
        self.joined = " " + " \n ".join(line.strip() for line in lines) + " "   # as `_joined`
        self._by_theme: dict[str, list[tuple[str, str]]] = {}
        for line, person, theme in zip(lines, participants, themes):
            self._by_theme.setdefault(theme, []).append((line, person))

    def people(self, phrase: str, theme_id: str | None = None) -> int:
        """How many distinct participants wrote the normalised `phrase` (in theme `theme_id`, or anywhere)."""
        key = f" {phrase} "
        if not phrase or key not in self.joined:
            return 0
        groups = [self._by_theme.get(theme_id, [])] if theme_id is not None else self._by_theme.values()
        return len({person for group in groups for line, person in group if key in line})


def _sources(view: "SynthesisView") -> tuple[Said, list[str]]:
    """(the statements to look for copies of, the questions they answer): every statement of the run, or for a very
    large run (whose statements are not read to show results) its quotes only."""
    quoted = [(q, t.theme_id) for t in view.themes for q in t.quotes]
    texts, questions = [q.text for q, _ in quoted], [q.question for q, _ in quoted]
    people, themes = [q.participant_id for q, _ in quoted], [t for _, t in quoted]
    if int(view.run.stats.get("statements", 0) or 0) <= FULL_CORPUS_STATEMENTS:
        st: pd.DataFrame = view.statements
        if not st.empty:
            texts += st["text"].astype(str).tolist()
            people += st["participant_id"].astype(str).tolist()
            themes += st["theme_id"].astype(str).tolist() if "theme_id" in st.columns else [""] * len(st)
            if "question" in st.columns:
                questions += st["question"].dropna().astype(str).tolist()
    return Said(texts, people, themes), sorted(set(questions))


def _fold(word: str) -> str:
    return unicodedata.normalize("NFKC", word).casefold()


def _words(text: str) -> list[str]:
    return [_fold(w) for w in _WORD.findall(unicodedata.normalize("NFKC", text or ""))]


def _joined(texts: list[str]) -> str:
    """Texts as one searchable string of normalised words: ' w1 w2 \n w3 … ' (search with f' {phrase} ')."""
    return " " + " \n ".join(" ".join(_words(t)) for t in texts) + " "


_CACHE: OrderedDict = OrderedDict()
_CACHE_MAX = 64
_CACHE_LOCK = threading.Lock()


def _cache_get(key):
    with _CACHE_LOCK:
        if key in _CACHE:
            _CACHE.move_to_end(key)
            return _CACHE[key]
    return None


def _cache_put(key, value) -> None:
    with _CACHE_LOCK:
        _CACHE[key] = value
        while len(_CACHE) > _CACHE_MAX:
            _CACHE.popitem(last=False)
