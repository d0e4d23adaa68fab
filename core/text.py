"""Cleaning and checking free text typed by people."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

MAX_MESSAGE_CHARS = 4000
# Control characters except tab and newline; also the Unicode "format" class that hides text direction.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")


@dataclass(frozen=True)
class CleanText:
    text: str
    error: str | None = None
    notice: str | None = None


def clean_message(raw: str | None, max_chars: int = MAX_MESSAGE_CHARS) -> CleanText:
    """Normalise a chat message; `error` says why it cannot be sent (the caller keeps the draft)."""
    text = unicodedata.normalize("NFC", raw or "").replace("\r\n", "\n").replace("\r", "\n")
    cleaned = _CONTROL.sub("", text)
    notice = "Some invisible control characters were removed." if cleaned != text else None
    cleaned = cleaned.strip()
    if not cleaned:
        return CleanText("", error="Your message is empty. Type an answer, or use Skip.")
    if len(cleaned) > max_chars:
        return CleanText(
            cleaned,
            error=f"Your message is {len(cleaned):,} characters long; the limit is {max_chars:,}. "
            "Please shorten it (your text is kept below).",
        )
    return CleanText(cleaned, notice=notice)


def count_tokens(text: str) -> int:
    """A model-independent token estimate (words and punctuation), used for stats and limits."""
    return len(re.findall(r"\w+|[^\w\s]", text))


def plural(n: int, one: str, many: str | None = None) -> str:
    """"1 participant", "30 participants": a count with its word (English UI text; never "participant(s)")."""
    return f"{n:,} {one if n == 1 else (many or one + 's')}"


def word_count(text: str) -> int:
    return len(re.findall(r"\w+", text))


# Every ASCII punctuation character may be backslash-escaped in CommonMark; escaping them all turns
# `![x](http://…)`, `<img …>`, emphasis and `$math$` into literal characters.
_MD_PUNCT = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$&:=\"'/@%^;?,])")


# Escapes do not stop GitHub-flavoured Markdown's autolinks ("http://…", "www.…" become links after unescaping):
# an invisible word joiner after the scheme's colon and after "www" breaks them, the text reads the same.
_MD_ESCAPED_AUTOLINK = re.compile(r"(?i)(?<=[a-z])(\\:)(?=\\/\\/)|(?<=\bwww)(?=\\\.)")


def escape_markdown(text: str) -> str:
    """Text as literal Markdown (no images, HTML, formatting or links), line breaks kept."""
    escaped = _MD_PUNCT.sub(r"\\\1", str(text))
    return _MD_ESCAPED_AUTOLINK.sub(lambda m: (m.group(1) or "") + "\u2060", escaped).replace("\n", "  \n")


# What can act in a Markdown file people read raw and in any renderer: emphasis, code, links and images, HTML,
# tables, strikethrough, math, entities, autolinks (scheme:// and www.) and block markers at a line's start.
_MD_ACTIVE = re.compile(r"([\\`*_\[\]<>!|~$&])")
_MD_AUTOLINK = re.compile(r"(?i)(?<=[a-z])(:)(?=//)|(?<=\bwww)(\.)")
_MD_BLOCK = re.compile(r"^(\s*\d*)([#>+=.)-])")
_MD_BULLET = re.compile(r"^\s*[-*•] (?=\S)")


def bullet_item(line: str) -> str | None:
    """The text of a list item ("- ", "* " or "• " at the line's start), or None for any other line."""
    marker = _MD_BULLET.match(line)
    return line[marker.end():] if marker else None


def markdown_text(text: str, bullets: bool = False) -> str:
    """Text for a Markdown file: literal like `escape_markdown` (nothing links, loads, formats or starts a heading),
    yet readable raw: only what could act is escaped. With `bullets`, a line starting "- " stays a list item."""
    lines = []
    for line in str(text).split("\n"):
        marker = _MD_BULLET.match(line) if bullets else None
        body = line[marker.end():] if marker else line
        body = _MD_AUTOLINK.sub(lambda m: "\\" + m.group(0), _MD_ACTIVE.sub(r"\\\1", body))
        body = _MD_BLOCK.sub(lambda m: m.group(1) + "\\" + m.group(2), body)
        if bullets and lines and (marker is None or not lines[-1].startswith("- ")):
            lines.append("")      # a paragraph is its own block: never a lazy continuation of a list item
        lines.append(("- " if marker else "") + body)
    return "\n".join(lines) if bullets else "  \n".join(lines)


_LABEL_AUTOLINK = re.compile(r"(?i)(?<=[a-z]:)(?=//)|(?<=\bwww)(?=\.)")


def escape_label(text: str) -> str:
    """A widget label or option shown literally, with as few escapes as that takes: Streamlit renders labels as
    Markdown and also uses their source as the accessible name, so "Which team are you in?" must stay as typed.
    Only what could format, link or load is escaped; autolinks are broken with an invisible word joiner."""
    return _LABEL_AUTOLINK.sub("\u2060", _MD_ACTIVE.sub(r"\\\1", str(text)))


_REF = re.compile(r"\b([TQ])(\d+)(?:\.(\d+))?(?:\.(\d+))?\b")
_CITATION = re.compile(r"\[((?:\s*[TQ]\d+(?:\.\d+){0,2}\s*[,;]?)+)\]")


def ref_label(ref: str) -> str:
    """A citation handle in words: "T2" → "theme 2", "Q1.2" → "theme 1, quote 2", "Q1.2.1" → "theme 1,
    sub-theme 2, quote 1". "Q1.1" alone reads as "question 1" to researchers; the handles stay as they are in
    the stored summary, the model's prompts and the JSON export."""
    m = _REF.fullmatch(ref.strip())
    if not m:
        return ref
    kind, theme, a, b = m.groups()
    if kind == "T":
        return f"theme {theme}"
    if b:
        return f"theme {theme}, sub-theme {a}, quote {b}"
    return f"theme {theme}, quote {a}" if a else f"theme {theme}"


def readable_refs(text: str) -> str:
    """Every bracketed citation of `text` in words: "… slow [T2, Q2.1]." → "… slow [theme 2; theme 2, quote 1]."."""
    def words(m: re.Match) -> str:
        refs = [r for r in re.split(r"[,;\s]+", m.group(1)) if r]
        return "[" + "; ".join(ref_label(r) for r in refs) + "]"
    return _CITATION.sub(words, text)
