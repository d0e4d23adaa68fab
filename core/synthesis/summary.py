"""The offline summary: templated from the theme table and its quotes (never from raw transcripts), with
numbered quote citations, honestly worded. Its size depends on the number of themes, not of participants."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

# Offline templates; other session languages fall back to English and say so.
_TEMPLATES = {
    "en": {
        "none": "No one has answered yet, so there is nothing to summarise.",
        "intro": ("This summary was generated without an AI model, from the theme table below: it counts what was "
                  "said, it does not interpret. Analysed: {included} ({finished} finished their conversation); "
                  "{statements} grouped into {themes}."),
        "theme": "“{label}” was raised by {people} of {included} ({share:.0f}%), {mentions}{quote}.",
        "quote": ", for example: “{text}” [{ref}]",
        "rest": "Smaller themes ({n}) were each raised by fewer participants; see the theme table.",
        "caveat": "Counts describe this sample only and are not estimates for a wider population.",
        "fallback": "",
    },
    "fr": {
        "none": "Personne n'a encore répondu : il n'y a rien à résumer.",
        "intro": ("Ce résumé a été produit sans modèle d'IA, à partir du tableau des thèmes ci-dessous : il compte ce "
                  "qui a été dit, il n'interprète pas. Analysé : {included} ({finished} ont terminé leur "
                  "conversation) ; {statements} regroupés en {themes}."),
        "theme": "« {label} » a été évoqué par {people} sur {included} ({share:.0f} %), {mentions}{quote}.",
        "quote": ", par exemple : « {text} » [{ref}]",
        "rest": "Thèmes plus petits ({n}) : chacun évoqué par moins de participants ; voir le tableau.",
        "caveat": "Les chiffres décrivent cet échantillon seulement, pas une population plus large.",
        "fallback": "",
    },
    "es": {
        "none": "Nadie ha respondido todavía: no hay nada que resumir.",
        "intro": ("Este resumen se generó sin un modelo de IA, a partir de la tabla de temas: cuenta lo que se "
                  "dijo, no interpreta. Analizado: {included} ({finished} terminaron su conversación); "
                  "{statements} agrupadas en {themes}."),
        "theme": "«{label}» fue mencionado por {people} de {included} ({share:.0f} %), {mentions}{quote}.",
        "quote": ", por ejemplo: «{text}» [{ref}]",
        "rest": "Temas más pequeños ({n}): cada uno mencionado por menos participantes; véase la tabla.",
        "caveat": "Las cifras describen solo esta muestra, no una población más amplia.",
        "fallback": "",
    },
}
# Counted words, singular and plural: "1 participant", "30 participants" (never "participant(s)").
_WORDS = {
    "en": {"participant": ("participant", "participants"), "statement": ("statement", "statements"),
           "theme": ("theme", "themes"), "mention": ("mention", "mentions")},
    "fr": {"participant": ("participant", "participants"), "statement": ("propos", "propos"),
           "theme": ("thème", "thèmes"), "mention": ("mention", "mentions")},
    "es": {"participant": ("participante", "participantes"), "statement": ("afirmación", "afirmaciones"),
           "theme": ("tema", "temas"), "mention": ("mención", "menciones")},
}


def counted(n: int, word: str, language: str = "en") -> str:
    """"1 participant", "30 participants" (in the summary's languages; English otherwise)."""
    one, many = _WORDS.get(language, _WORDS["en"])[word]
    return f"{n:,} {one if n == 1 else many}"


@dataclass(frozen=True)
class SummaryTheme:
    label: str
    participants: int
    mentions: int
    quote: str | None
    quote_ref: str | None


def templated_summary(themes: list[SummaryTheme], included: int, finished: int, statements: int,
                      language: str = "en", top: int = 5) -> str:
    t = _TEMPLATES.get(language, _TEMPLATES["en"])
    if not included or not themes:
        return t["none"]
    lang = language if language in _WORDS else "en"
    lines = [t["intro"].format(included=counted(included, "participant", lang), finished=f"{finished:,}",
                               statements=counted(statements, "statement", lang),
                               themes=counted(len(themes), "theme", lang))]
    ranked = sorted(themes, key=lambda x: (-x.participants, -x.mentions, x.label))
    for th in ranked[:top]:
        quote = t["quote"].format(text=_clip(th.quote), ref=th.quote_ref) if th.quote else ""
        lines.append("- " + t["theme"].format(label=th.label, people=f"{th.participants:,}",
                                               included=counted(included, "participant", lang),
                                               share=100 * th.participants / included,
                                               mentions=counted(th.mentions, "mention", lang), quote=quote))
    if len(ranked) > top:
        lines.append(t["rest"].format(n=len(ranked) - top))
    lines.append(t["caveat"])
    if language not in _TEMPLATES:
        lines.append(f"(Offline summaries are written in English; the session language is '{language}'.)")
    return "\n".join(lines)


def _clip(text: str, n: int = 160) -> str:
    """Shorten for the summary only (a verbatim prefix, marked with …); the full quote is in the theme table."""
    return text if len(text) <= n else text[:n].rsplit(" ", 1)[0] + " …"


def quote_clauses() -> list[re.Pattern]:
    """The templated summary's quote clause (", for example: “…” [Q1.1]") in each language, as patterns with the
    groups `text` and `ref`: core.audience removes the clauses whose quote an audience may not see."""
    out = []
    for t in _TEMPLATES.values():
        head, rest = t["quote"].split("{text}")
        middle, tail = rest.split("{ref}")
        out.append(re.compile(re.escape(head) + r"(?P<text>.+?)" + re.escape(middle) + r"(?P<ref>Q\d+\.\d+)"
                              + re.escape(tail)))
    return out


# ------------------------------------------------------------------------------- citation check (model summaries)
#
# A model-written summary is shown only when what it cites exists and what it claims is cited. It may cite a theme
# of the table as [T<n>] and a quote as [Q<n>.<m>] (the refs the results page shows). Rejected, with a reason each:
# a citation to a theme or quote the table does not have; a sentence stating a number, a quotation or a theme's
# name without a citation; a number that is in none of the cited themes' figures; a quotation that no quote of the
# table contains; a sentence naming a theme but citing only other themes; a summary that cites nothing.


@dataclass(frozen=True)
class TableTheme:
    number: int                 # cited as [T<number>]; the theme's position + 1, as on the results page
    label: str
    participants: int
    mentions: int
    quotes: dict[str, str]      # "Q<number>.<i>" -> the quote's text


@dataclass(frozen=True)
class SummaryTable:
    themes: list[TableTheme]    # the themes given to the model (the largest)
    analysed: int               # participants in the analysis
    total_themes: int           # themes in the run (the table may list fewer)

    def refs(self) -> dict[str, int]:
        """Every citable ref -> its theme number."""
        out = {f"T{t.number}": t.number for t in self.themes}
        out.update({ref: t.number for t in self.themes for ref in t.quotes})
        return out


_BRACKET = re.compile(r"\[([^\[\]\n]{1,80})\]")
_REF = re.compile(r"^([TQ])(\d+)(?:\.(\d+))?$", re.IGNORECASE)
_NUMBER = re.compile(r"(?<![\w.])(\d{1,3}(?:[,\u202f\u00a0 ]\d{3})+|\d+)(?:[.,](\d+))?"
                     r"(\s*(?:%|percent\b|per cent\b|pour cent\b|por ciento\b))?", re.IGNORECASE)
_QUOTED = re.compile(r"“([^”]{3,})”|\"([^\"]{3,})\"|«\s*([^»]{3,}?)\s*»|„([^“”]{3,})[“”]")
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+")
_ELLIPSIS = re.compile(r"\s*(?:…|\.\.\.)\s*")
MAX_PROBLEMS = 8


def _norm(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).replace("’", "'").replace("‘", "'")
    return " ".join(text.split()).casefold()


def _units(text: str) -> list[str]:
    """Sentences and list items; a run of citations standing alone ("… slow. [Q1.1]") joins the sentence before."""
    units: list[str] = []
    for line in text.splitlines():
        line = line.strip().lstrip("-*•·").strip()
        for part in _SENTENCE_END.split(line):
            part = part.strip()
            if not part:
                continue
            if units and not _BRACKET.sub("", part).strip(" .;,"):
                units[-1] += " " + part
            else:
                units.append(part)
    return units


def _cited(unit: str) -> tuple[list[str], list[str]]:
    """(refs cited in the unit, normalised to T3 / Q3.1; bracketed things with a digit that are not refs)."""
    refs, bad = [], []
    for m in _BRACKET.finditer(unit):
        inner = m.group(1)
        if not any(c.isdigit() for c in inner):
            continue           # "[sic]", "[laughs]": not a citation
        tokens = [t for t in re.split(r"[\s,;]+", inner.strip()) if t]
        parsed = [_REF.match(t) for t in tokens]
        if not tokens or not all(parsed):
            bad.append(m.group(0))
            continue
        for p in parsed:
            kind, n, i = p.group(1).upper(), p.group(2), p.group(3)
            if kind == "T" and i is None:
                refs.append(f"T{int(n)}")
            elif kind == "Q" and i is not None:
                refs.append(f"Q{int(n)}.{int(i)}")
            else:
                bad.append(m.group(0))
    return refs, bad


def _numbers(text: str) -> list[tuple[float, bool, str]]:
    """(value, is a percentage, as written) for each number in text (citations already removed)."""
    out = []
    for m in _NUMBER.finditer(text):
        whole = re.sub(r"[,\u202f\u00a0 ]", "", m.group(1))
        value = float(f"{whole}.{m.group(2)}") if m.group(2) and len(m.group(2)) != 3 else float(whole)
        out.append((value, bool(m.group(3)), m.group(0).strip()))
    return out


def _figures(table: SummaryTable, numbers: set[int]) -> tuple[set[float], set[float]]:
    """(counts, percentages) a sentence citing the themes `numbers` may state."""
    counts = {float(table.analysed), float(table.total_themes), float(len(table.themes))}
    shares: set[float] = {100.0}
    for t in table.themes:
        counts.add(float(t.number))     # "theme 3"
        if t.number not in numbers:
            continue
        counts.update({float(t.participants), float(t.mentions)})
        if table.analysed:
            share = 100.0 * t.participants / table.analysed
            shares.update({share, float(int(share)), float(int(share) + 1), float(round(share))})
    return counts, shares


def check_citations(text: str, table: SummaryTable) -> list[str]:
    """Why a model-written summary cannot be shown as it is (plain words, at most MAX_PROBLEMS), or []."""
    problems: list[str] = []
    if not text.strip():
        return ["the summary is empty"]
    refs = table.refs()
    by_number = {t.number: t for t in table.themes}
    labels = {t.number: _norm(t.label) for t in table.themes if len(_norm(t.label)) >= 4}
    quote_texts = [_norm(q) for t in table.themes for q in t.quotes.values()]
    quote_texts += [_norm(t.label) for t in table.themes]
    in_table_digits = {float(v) for q in quote_texts for v, _, _ in _numbers(q)}
    cited_any = False
    for unit in _units(text):
        cited, bad = _cited(unit)
        clip = _clip(_BRACKET.sub("", unit).strip(), 90)
        for b in bad:
            problems.append(f"{b} is not a citation of the table (cite [T<n>] or [Q<n>.<m>] as given)")
        unknown = [r for r in cited if r not in refs]
        for r in unknown:
            kind = "theme" if r.startswith("T") else "quote"
            problems.append(f"[{r}] cites a {kind} that is not in the table")
        known = [r for r in cited if r in refs]
        cited_any = cited_any or bool(known)
        body = _BRACKET.sub(" ", unit)
        low = _norm(body)
        named = {n for n, lab in labels.items() if lab in low}
        quoted = [next(g for g in m.groups() if g) for m in _QUOTED.finditer(body)]
        numbers = _numbers(body)
        if not known:
            if (numbers or quoted or named) and not unknown and not bad:
                problems.append(f"this sentence makes a claim without a citation: “{clip}”")
            continue
        themes = {refs[r] for r in known}
        if named and not named & themes:
            n = min(named)
            problems.append(f"this sentence names theme {n} (“{by_number[n].label}”) but cites only "
                            f"{', '.join(f'[{r}]' for r in known)}: “{clip}”")
        counts, shares = _figures(table, themes | named)
        for value, pct, written in numbers:
            ok = (any(abs(value - x) <= 1.0 for x in shares) if pct else
                  value in counts or value in in_table_digits or value in shares)
            if not ok:
                problems.append(f"the number {written} is not in the table for the themes cited: “{clip}”")
        for q in quoted:
            pieces = [p for p in _ELLIPSIS.split(_norm(q)) if p]
            if len(_norm(q).split()) >= 3 and not all(any(p in src for src in quote_texts) for p in pieces):
                problems.append(f"“{_clip(q, 60)}” is not in any quote of the table")
    if not cited_any and not problems:
        problems.append("the summary cites nothing from the table")
    out = list(dict.fromkeys(problems))
    return out[:MAX_PROBLEMS]
