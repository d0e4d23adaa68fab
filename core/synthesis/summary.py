"""The offline summary: templated from the theme table and its quotes (never from raw transcripts), with
numbered quote citations, honestly worded. Its size depends on the number of themes, not of participants."""

from __future__ import annotations

from dataclasses import dataclass

# Offline templates; other session languages fall back to English and say so.
_TEMPLATES = {
    "en": {
        "none": "No one has answered yet, so there is nothing to summarise.",
        "intro": ("This summary was generated without an AI model, from the theme table below: it counts and quotes, "
                  "it does not interpret. {included} participant(s) are included in the analysis ({finished} "
                  "finished their conversation); {statements} statement(s) were grouped into {themes} theme(s)."),
        "theme": "“{label}” was raised by {people} of {included} participant(s) ({share:.0f}%), {mentions} mention(s){quote}.",
        "quote": ", for example: “{text}” [{ref}]",
        "rest": "{n} smaller theme(s) were each raised by fewer participants; see the theme table.",
        "caveat": "Counts describe this sample only and are not estimates for a wider population.",
        "fallback": "",
    },
    "fr": {
        "none": "Personne n'a encore répondu : il n'y a rien à résumer.",
        "intro": ("Ce résumé a été produit sans modèle d'IA, à partir du tableau des thèmes ci-dessous : il compte et "
                  "cite, il n'interprète pas. {included} participant(s) sont inclus dans l'analyse ({finished} ont "
                  "terminé leur conversation) ; {statements} propos ont été regroupés en {themes} thème(s)."),
        "theme": "« {label} » a été évoqué par {people} participant(s) sur {included} ({share:.0f} %), {mentions} "
                 "mention(s){quote}.",
        "quote": ", par exemple : « {text} » [{ref}]",
        "rest": "{n} thème(s) plus petit(s) ont chacun été évoqués par moins de participants ; voir le tableau.",
        "caveat": "Les chiffres décrivent cet échantillon seulement, pas une population plus large.",
        "fallback": "",
    },
    "es": {
        "none": "Nadie ha respondido todavía: no hay nada que resumir.",
        "intro": ("Este resumen se generó sin un modelo de IA, a partir de la tabla de temas: cuenta y cita, no "
                  "interpreta. {included} participante(s) están incluidos en el análisis ({finished} terminaron su "
                  "conversación); {statements} afirmaciones se agruparon en {themes} tema(s)."),
        "theme": "«{label}» fue mencionado por {people} de {included} participante(s) ({share:.0f} %), {mentions} "
                 "mención(es){quote}.",
        "quote": ", por ejemplo: «{text}» [{ref}]",
        "rest": "{n} tema(s) más pequeño(s) fueron mencionados por menos participantes; véase la tabla.",
        "caveat": "Las cifras describen solo esta muestra, no una población más amplia.",
        "fallback": "",
    },
}


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
    lines = [t["intro"].format(included=included, finished=finished, statements=statements, themes=len(themes))]
    ranked = sorted(themes, key=lambda x: (-x.participants, -x.mentions, x.label))
    for th in ranked[:top]:
        quote = t["quote"].format(text=_clip(th.quote), ref=th.quote_ref) if th.quote else ""
        lines.append("- " + t["theme"].format(label=th.label, people=th.participants, included=included,
                                               share=100 * th.participants / included, mentions=th.mentions,
                                               quote=quote))
    if len(ranked) > top:
        lines.append(t["rest"].format(n=len(ranked) - top))
    lines.append(t["caveat"])
    if language not in _TEMPLATES:
        lines.append(f"(Offline summaries are written in English; the session language is '{language}'.)")
    return "\n".join(lines)


def _clip(text: str, n: int = 160) -> str:
    """Shorten for the summary only (a verbatim prefix, marked with …); the full quote is in the theme table."""
    return text if len(text) <= n else text[:n].rsplit(" ", 1)[0] + " …"
