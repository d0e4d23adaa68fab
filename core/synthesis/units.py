"""Units of analysis: each participant answer with the question it answered and its guide step, split into
statements where it makes several points. Every statement keeps its exact character span in the stored
message, so a statement shown as a quote is always a substring of what was said (and is checked again).
"""

from __future__ import annotations

import hashlib
import html
import re
from collections import OrderedDict
from dataclasses import dataclass

import pandas as pd

MIN_STATEMENT_WORDS = 3
# Sentence ends, line breaks, bullets and semicolons separate points.
_BOUNDARY = re.compile(r"(?<=[.!?…])[\"'”’)]*\s+|\n+|;\s+|\s+[-•*]\s+")
_WORD = re.compile(r"\w+")
# A sentence that opens with a connective or refers back within its first REFERS_WITHIN words continues the point
# before it ("Priorities kept changing. ... then half of it got dropped"; "Those freed-up afternoons were ...").
# Alone it would be clustered without what it is about: on the seeded demo such fragments made up the catch-all
# themes. English words: in other languages sentences split as before.
_CONTINUES = {"so", "but", "and", "also", "then", "even", "otherwise", "still", "yet", "or", "because", "plus",
              "which", "that", "this", "it", "these", "those", "they", "there", "such"}
_REFERS = {"it", "its", "it's", "this", "that", "these", "those", "they", "them", "their", "there", "such",
           "each", "both", "which"}
REFERS_WITHIN = 5
_LOWER_WORD = re.compile(r"[\w'’]+")


def continues_previous(sentence: str) -> bool:
    """True when `sentence` reads as the continuation of the one before it (see _CONTINUES)."""
    words = [w.replace("’", "'") for w in _LOWER_WORD.findall(sentence.lower())[:REFERS_WITHIN]]
    return bool(words) and (words[0] in _CONTINUES or any(w in _REFERS for w in words))

STATEMENT_COLUMNS = ["statement_id", "message_id", "participant_id", "session_id", "step", "critical_item",
                     "question", "start_pos", "end_pos", "text", "content_hash"]


def content_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


@dataclass(frozen=True)
class Span:
    start: int
    end: int


_split_cache: OrderedDict[tuple[str, int], list[Span]] = OrderedDict()
_SPLIT_CACHE_MAX = 200_000


def split_statements(text: str, min_words: int = MIN_STATEMENT_WORDS) -> list[Span]:
    """Spans of `text`, one per point made; fragments under `min_words` words join their neighbour, and a sentence
    that continues the one before (`continues_previous`) joins it.
    (Memoised per process: re-synthesis does not split the same answers again.)"""
    key = (text, min_words)
    found = _split_cache.get(key)
    if found is not None:
        return found
    spans = _split(text, min_words)
    _split_cache[key] = spans
    if len(_split_cache) > _SPLIT_CACHE_MAX:
        _split_cache.popitem(last=False)
    return spans


def _split(text: str, min_words: int) -> list[Span]:
    spans: list[Span] = []
    pos = 0
    for match in _BOUNDARY.finditer(text):
        spans.append(Span(pos, match.start()))
        pos = match.end()
    spans.append(Span(pos, len(text)))
    # trim whitespace and bullet marks inside each span, dropping empty ones
    trimmed: list[Span] = []
    for s in spans:
        a, b = s.start, s.end
        while a < b and (text[a].isspace() or text[a] in "-•*"):
            a += 1
        while b > a and text[b - 1].isspace():
            b -= 1
        if b > a:
            trimmed.append(Span(a, b))
    merged: list[Span] = []
    for s in trimmed:
        part = text[s.start:s.end]
        short = len(_WORD.findall(part)) < min_words
        if merged and (short or continues_previous(part)
                       or len(_WORD.findall(text[merged[-1].start:merged[-1].end])) < min_words):
            merged[-1] = Span(merged[-1].start, s.end)
        else:
            merged.append(s)
    return merged


def build_statements(answers: pd.DataFrame, questions: dict[tuple[str, int, int], tuple[str, str | None]],
                     min_words: int = MIN_STATEMENT_WORDS) -> pd.DataFrame:
    """Statements from an answers frame (message_id, participant_id, session_id, guide_version, step, content).

    `questions` maps (session_id, guide_version, step) to (question text, critical item).
    """
    rows = []
    for a in answers.itertuples(index=False):
        question, item = questions.get((a.session_id, int(a.guide_version), int(a.step)), ("", None))
        content = a.content
        for span in split_statements(content, min_words):
            text = content[span.start:span.end]
            if not _WORD.search(text):
                continue
            rows.append((f"{a.message_id}:{span.start}", a.message_id, a.participant_id, a.session_id, int(a.step),
                         item, question, span.start, span.end, text, content_hash(text)))
    return pd.DataFrame(rows, columns=STATEMENT_COLUMNS)


def is_verbatim(quote: str, message: str | None, start: int | None = None) -> bool:
    """A quote may be shown only if it is an exact substring of the stored message (at `start` when given)."""
    if not quote or message is None:
        return False
    if start is not None:
        return message[start:start + len(quote)] == quote
    return quote in message


# ------------------------------------------------------------------------------------------- features
#
# Only participants' words are clustered, and only what carries meaning. The text that is embedded (the *feature*
# text) is the statement cleaned of: HTML entities (unescaped, then dropped), URLs, e-mail addresses and @handles;
# boilerplate ("I don't know", "skip", "n/a", "nothing"), which leaves no feature at all; words the facilitator's
# question or probe put in the participant's mouth ("what *stands out*" → "the pairing stands out"): a word of the
# step's question, probe, critical item or facilitator messages that the answers to that step use at least
# ECHO_RATIO times as often as answers to the steps whose wording lacks it (always, when every step's wording has
# it or there is one step): a word participants bring up by themselves everywhere stays; and names (capitalised
# inside sentences) in at least DOMINANT_SHARE of all statements (a company or product named in every complaint
# separates nothing; a common word stays however frequent). Quotes, labels' sources and everything shown stay
# verbatim: cleaning applies only to what is embedded.

ECHO_RATIO = 2.0
DOMINANT_SHARE = 0.25
NAME_CAPITALISED = 0.8
DOMINANT_MIN_STATEMENTS = 30

_URL = re.compile(r"(?i)\b(?:https?://|ftp://|www\.)\S+|\b[\w-]+(?:\.[\w-]+)*\.(?:com|org|net|io|co|uk|de|fr|es|it|nl|"
                  r"eu|gov|edu|info|app|dev|ly|me)\b(?:/\S*)?")
_EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")
_HANDLE = re.compile(r"(?<![\w@])@\w+")
_ENTITY = re.compile(r"&(?:[a-zA-Z][a-zA-Z0-9]{1,31}|#\d{1,7}|#[xX][0-9a-fA-F]{1,6});")
_TAG = re.compile(r"</?[a-zA-Z][^<>]{0,200}>")
_HASH = re.compile(r"(?<![\w#])#(?=\w)")
_SPACES = re.compile(r"\s+")
_FILLERS = re.compile(r"\b(?:really|honestly|i guess|just|um+|uh+|er+m*|well|sorry|tbh|to be honest|at the moment|"
                      r"right now|for now|i think|so far|as such|at all|haha|lol)\b")
BOILERPLATE = {
    "", "i don't know", "i dont know", "don't know", "dont know", "dunno", "idk", "no idea", "not sure", "unsure",
    "i'm not sure", "im not sure", "i am not sure", "skip", "pass", "n/a", "na", "n a", "none", "nothing", "no", "nope",
    "nah", "no comment", "no comments", "nothing to add", "nothing else", "nothing more", "not much", "nothing much",
    "same as above", "see above", "as above", "same", "ok", "okay", "yes", "yeah", "yep", "fine", "good",
    "nothing comes to mind",
    "can't think of anything", "cant think of anything", "no answer", "prefer not to say", "not applicable", "nil",
    "no thanks", "no thank you", "all good", "nothing in particular", "not really", "none really", "nothing special",
    "can't say", "cant say", "hard to say", "no opinion", "nothing to report", "none that i can think of", "test",
}
_LEADING_BOILERPLATE = re.compile(r"(?i)^\s*(?:i (?:really )?do(?:n'|n’)?t know|i'?m not sure|not sure|no idea|dunno|"
                                  r"idk|hard to say)\b[\s,.;:!-]*(?=\w)")
_FEATURE_TOKEN = re.compile(r"[^\W\d_][\w'’-]*")


def clean_text(text: str) -> str:
    """`text` without HTML entities, URLs, e-mail addresses and @handles (a '#' before a word goes, the word stays);
    whitespace collapsed. Readable: what is left is the participant's words."""
    t = text or ""
    for _ in range(3):                      # "&amp;amp;" is escaped twice
        un = html.unescape(t)
        if un == t:
            break
        t = un
    t = _ENTITY.sub(" ", t)
    t = _TAG.sub(" ", t)
    t = _EMAIL.sub(" ", t)
    t = _URL.sub(" ", t)
    t = _HANDLE.sub(" ", t)
    t = _HASH.sub("", t)
    t = re.sub(r"(?<!\w)&(?!\w)", " and ", t)
    return _SPACES.sub(" ", t).strip()


def _normal(text: str) -> str:
    t = text.lower().replace("’", "'")
    t = re.sub(r"[^\w'/ ]+", " ", t)
    t = _FILLERS.sub(" ", t)
    return _SPACES.sub(" ", t).strip()


def is_boilerplate(text: str) -> bool:
    """True when the text says nothing of substance ("I don't know", "n/a", "Nothing really", "skip")."""
    return _normal(clean_text(text)) in BOILERPLATE


@dataclass
class Features:
    texts: list[str]                          # what is embedded, one per statement ("" = not clustered)
    echo: dict[tuple[str, int], set[str]]     # (session, step) -> stems dropped from that step's answers
    dominant: set[str]                        # stems dropped everywhere

    @property
    def banned(self) -> set[str]:
        """Every stem dropped somewhere: never a theme's label or keyword."""
        out = set(self.dominant)
        for stems in self.echo.values():
            out |= stems
        return out


def _stems(text: str) -> set[str]:
    from core.synthesis.labels import _content, stem

    return {stem(w) for w in _FEATURE_TOKEN.findall(text) if _content(w)}


def prompt_words(prompts: dict[tuple[str, int], list[str]]) -> dict[tuple[str, int], set[str]]:
    return {key: set().union(*[_stems(t) for t in texts]) if texts else set() for key, texts in prompts.items()}


def statement_prompts(statements: pd.DataFrame) -> dict[tuple[str, int], list[str]]:
    """The facilitator's wording each statement's step carries in the statements frame (question, critical item)."""
    out: dict[tuple[str, int], list[str]] = {}
    if statements.empty:
        return out
    cols = [c for c in ("question", "critical_item") if c in statements.columns]
    for row in statements[["session_id", "step", *cols]].drop_duplicates().itertuples(index=False):
        key = (row.session_id, int(row.step))
        out.setdefault(key, []).extend(str(v) for v in row[2:] if isinstance(v, str) and v)
    return out


def _dominant_names(texts: list[str], stems: list[set[str]]) -> set[str]:
    """Names (a word written with a capital inside sentences at least NAME_CAPITALISED of the time) that at least
    DOMINANT_SHARE of the statements use: a company or product named in every complaint separates nothing. Common
    words are never dropped this way, however frequent: a theme half the participants raise is the main finding."""
    from core.synthesis.labels import stem

    used = [s for s in stems if s]
    if len(used) < DOMINANT_MIN_STATEMENTS:
        return set()
    counts: dict[str, int] = {}
    for s in used:
        for w in s:
            counts[w] = counts.get(w, 0) + 1
    frequent = {w for w, c in counts.items() if c >= DOMINANT_SHARE * len(used)}
    if not frequent:
        return set()
    caps: dict[str, list[int]] = {w: [0, 0] for w in frequent}
    for text in texts:
        for i, m in enumerate(_FEATURE_TOKEN.finditer(text)):
            word = m.group(0)
            w = stem(word)
            if w in caps and i > 0 and text[max(0, m.start() - 2):m.start()].strip() not in (".", "!", "?"):
                caps[w][1] += 1
                caps[w][0] += word[:1].isupper()
    return {w for w, (upper, seen) in caps.items() if seen >= 5 and upper >= NAME_CAPITALISED * seen}


def feature_texts(statements: pd.DataFrame, prompts: dict[tuple[str, int], list[str]] | None = None,
                  dominant: set[str] | None = None, echo: dict[tuple[str, int], set[str]] | None = None) -> Features:
    """The feature text of every statement (see above). `prompts`: (session id, step) -> the facilitator's wording
    at that step (default: the frame's question and critical item). `dominant` and `echo`, when given (an update
    reusing a full run's choice), are used as they are instead of being measured on these statements."""
    from core.synthesis.labels import stem

    texts = [clean_text(t) for t in statements["text"].tolist()]
    texts = [_LEADING_BOILERPLATE.sub("", t) for t in texts]
    texts = ["" if _normal(t) in BOILERPLATE else t for t in texts]
    keys = list(zip(statements["session_id"].tolist(), [int(s) for s in statements["step"].tolist()]))
    stems = [_stems(t) for t in texts]
    if echo is None:
        merged = statement_prompts(statements)
        for key, extra in (prompts or {}).items():
            merged.setdefault(key, []).extend(extra)
        asked = prompt_words(merged)
        echo = {}
        used: dict[tuple[str, int], dict[str, int]] = {}     # per step: stem -> statements using it
        sizes: dict[tuple[str, int], int] = {}
        for k, st_stems in zip(keys, stems):
            sizes[k] = sizes.get(k, 0) + 1
            counts = used.setdefault(k, {})
            for w in st_stems:
                counts[w] = counts.get(w, 0) + 1
        for key, words in asked.items():
            if key not in sizes:
                continue
            dropped = set()
            for w in words:
                here = used[key].get(w, 0) / sizes[key]
                if here == 0:
                    continue
                # compared with answers to the session's steps whose wording does not have the word
                others = [k for k in sizes if k[0] == key[0] and w not in asked.get(k, ())]
                n_other = sum(sizes[k] for k in others)
                there = sum(used[k].get(w, 0) for k in others) / n_other if n_other else 0.0
                if not n_other or here >= ECHO_RATIO * there:
                    dropped.add(w)
            if dropped:
                echo[key] = dropped
    if dominant is None:
        dominant = _dominant_names(texts, stems)
    out = []
    for text, key, own in zip(texts, keys, stems):
        drop = echo.get(key, set()) | dominant
        if drop and text:
            kept = own - drop
            if not kept:          # a statement is never emptied by the dominant-name rule alone
                drop = echo.get(key, set())
            text = _FEATURE_TOKEN.sub(lambda m: " " if stem(m.group(0)) in drop else m.group(0), text)
            text = _SPACES.sub(" ", text).strip()
        out.append(text if _FEATURE_TOKEN.search(text) and _stems(text) else "")
    return Features(out, echo, dominant)
