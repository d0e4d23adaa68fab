"""Units of analysis: each participant answer with the question it answered and its guide step, split into
statements where it makes several points. Every statement keeps its exact character span in the stored
message, so a statement shown as a quote is always a substring of what was said (and is checked again).
"""

from __future__ import annotations

import hashlib
import re
from collections import OrderedDict
from dataclasses import dataclass

import pandas as pd

MIN_STATEMENT_WORDS = 3
# Sentence ends, line breaks, bullets and semicolons separate points.
_BOUNDARY = re.compile(r"(?<=[.!?…])[\"'”’)]*\s+|\n+|;\s+|\s+[-•*]\s+")
_WORD = re.compile(r"\w+")

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
    """Spans of `text`, one per point made; fragments under `min_words` words join their neighbour.
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
        short = len(_WORD.findall(text[s.start:s.end])) < min_words
        if merged and (short or len(_WORD.findall(text[merged[-1].start:merged[-1].end])) < min_words):
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
