"""Model mode for synthesis, through the public client of core.llm (structured output, validated).

- Extraction: per participant, the model lists the claims they made with an exact quote each, mapped to a critical
  item. It is cached by transcript hash (+ model + prompt version) in `synthesis_extractions`, so a new participant
  costs one extraction. Every quote must be an exact substring of one of that participant's answers; others are
  dropped and counted. A participant whose extraction fails is split offline instead.
- Naming: each theme is named from up to 8 statements inside it and 4 from other themes.
- Summary: written from the theme table and at most two quotes per theme (never from transcripts), so its prompt
  does not grow with the number of participants; it must cite quotes as [Q<theme>.<n>].
- Ask the data: an answer written from the retrieved quotes only, citing them.
- Sentiment: statements labelled positive / neutral / negative in numbered batches, cached by the statement's
  content hash (+ model + prompt version); a batch that fails, or a statement left unlabelled, keeps the offline
  lexicon's label, and the run's stats say which was used.
Any model failure falls back to the offline result for that step.
"""

from __future__ import annotations

import hashlib
import json
import logging
from typing import Callable, Literal

import pandas as pd
from pydantic import BaseModel, Field

from core.config import live
from core.db import Database
from core.repos import synthesis as repo
from core.synthesis.units import STATEMENT_COLUMNS, build_statements, content_hash

log = logging.getLogger(__name__)

EXTRACT_VERSION = "extract-claims-v1"
NAME_VERSION = "theme-name-v1"
SUMMARY_VERSION = "summary-v1"
ASK_VERSION = "ask-v1"
SENTIMENT_VERSION = "sentiment-v1"
SENTIMENT_BATCH = 40
INSIDE, OUTSIDE, SUMMARY_THEMES, SUMMARY_QUOTES = 8, 4, 12, 2


class Claim(BaseModel):
    quote: str = Field(description="an exact, verbatim excerpt of the participant's answer")
    critical_item: str | None = Field(default=None, description="the critical item it informs, if any")
    point: str = Field(default="", description="the claim in a few words")


class Claims(BaseModel):
    claims: list[Claim] = Field(default_factory=list)


class ThemeName(BaseModel):
    label: str = Field(description="a short theme name, at most 6 words")
    description: str = Field(default="", description="one sentence describing the theme")


class Summary(BaseModel):
    summary: str


class StatementSentiment(BaseModel):
    n: int = Field(description="the statement's number, as given")
    sentiment: Literal["positive", "neutral", "negative"]


class SentimentBatch(BaseModel):
    labels: list[StatementSentiment] = Field(default_factory=list)


def _client(db: Database):
    from core import modes

    return modes.client(db)


def _redacting(db: Database, client, session_ids: list[str]):
    from core.privacy import RedactingModel, redacts, session_names

    if client is None or not redacts(db, session_ids):
        return client
    return RedactingModel(client, session_names(db, session_ids))


def transcript_hash(answers: pd.DataFrame) -> str:
    h = hashlib.sha256()
    for r in answers.itertuples(index=False):
        h.update(f"{r.message_id}\x00{int(r.step)}\x00{r.content}\x01".encode("utf-8"))
    return h.hexdigest()[:32]


class Extractor:
    """`extractor(answers, questions) -> statements` for pipeline.synthesize."""

    def __init__(self, db: Database, client, model: str, min_words: int = 3):
        self.db, self.client, self.model, self.min_words = db, client, model, min_words
        self.calls = 0
        self.dropped = 0
        self.fallbacks = 0

    def __call__(self, answers: pd.DataFrame, questions: dict) -> pd.DataFrame:
        groups = {pid: g for pid, g in answers.groupby("participant_id", sort=False)}
        hashes = {pid: transcript_hash(g) for pid, g in groups.items()}
        cached = repo.load_extractions(self.db, list(hashes.values()), self.model, EXTRACT_VERSION)
        frames = []
        for pid, g in groups.items():
            claims = cached.get(hashes[pid])
            if claims is None:
                claims = self._extract(pid, g, questions)
                if claims is not None:
                    repo.save_extraction(self.db, hashes[pid], self.model, EXTRACT_VERSION, pid, claims, 0)
            rows = self._spans(g, questions, claims) if claims is not None else None
            if not rows:
                self.fallbacks += 1
                frames.append(build_statements(g, questions, self.min_words))
            else:
                frames.append(pd.DataFrame(rows, columns=STATEMENT_COLUMNS))
        if not frames:
            return pd.DataFrame(columns=STATEMENT_COLUMNS)
        return pd.concat(frames, ignore_index=True).drop_duplicates("statement_id")

    def _extract(self, pid: str, g: pd.DataFrame, questions: dict) -> dict | None:
        lines = []
        for r in g.itertuples(index=False):
            q, item = questions.get((r.session_id, int(r.guide_version), int(r.step)), ("", None))
            lines.append(f"Question ({item or 'open'}): {q}\nAnswer: {r.content}")
        items = sorted({v[1] for v in questions.values() if v[1]})
        messages = [
            {"role": "system", "content": "You extract the distinct claims a survey participant made. For each, copy "
             "an exact, verbatim quote from their answer (do not change a character) and name the critical item it "
             f"informs (one of: {', '.join(items) or 'none'}), or null."},
            {"role": "user", "content": "\n\n".join(lines)},
        ]
        try:
            self.calls += 1
            out = self.client.structured(messages, Claims, purpose="synthesis.extract", prompt_version=EXTRACT_VERSION)
        except Exception as exc:  # LLMError or anything unexpected: this participant is split offline
            log.warning("extraction failed for %s: %s", pid, exc)
            return None
        return out.model_dump()

    def _spans(self, g: pd.DataFrame, questions: dict, claims: dict) -> list[tuple]:
        rows = []
        for c in claims.get("claims", []):
            quote = (c.get("quote") or "").strip()
            hit = None
            for r in g.itertuples(index=False):
                pos = r.content.find(quote) if quote else -1
                if pos >= 0:
                    hit = (r, pos)
                    break
            if hit is None:
                self.dropped += 1     # not said verbatim: never shown
                continue
            r, pos = hit
            q, item = questions.get((r.session_id, int(r.guide_version), int(r.step)), ("", None))
            rows.append((f"{r.message_id}:{pos}", r.message_id, r.participant_id, r.session_id, int(r.step),
                         c.get("critical_item") or item, q, pos, pos + len(quote), quote, content_hash(quote)))
        return rows


class Namer:
    prompt_version = NAME_VERSION

    def __init__(self, client, model: str):
        self.client, self.model = client, model
        self.calls = 0

    def __call__(self, themes: dict, statements: pd.DataFrame) -> None:
        for tid, th in themes.items():
            if th.renamed:
                continue
            inside = statements[statements["theme_id"] == tid].sort_values("score", ascending=False)["text"]
            outside = statements[statements["theme_id"] != tid]["text"]
            outside = outside.sample(min(OUTSIDE, len(outside)), random_state=0) if len(outside) else outside
            prompt = ("Statements in the theme:\n" + "\n".join(f"- {t}" for t in inside.head(INSIDE)) +
                      "\n\nStatements from other themes (for contrast):\n" + "\n".join(f"- {t}" for t in outside))
            try:
                self.calls += 1
                out = self.client.structured(
                    [{"role": "system", "content": "Name the theme shared by the first group of survey statements, "
                      "distinguishing it from the second group. Use the statements' language."},
                     {"role": "user", "content": prompt}], ThemeName, purpose="synthesis.name",
                    prompt_version=NAME_VERSION)
            except Exception as exc:
                log.warning("naming failed for %s: %s", tid, exc)
                continue
            label = " ".join(out.label.split())[:80]
            if label:
                th.label = label
                th.description = " ".join(out.description.split())[:300] or th.description


def summary_prompt(theme_rows: pd.DataFrame, statements: pd.DataFrame, analysed: int, language: str) -> list[dict]:
    by_id = statements.set_index("statement_id")
    lines = []
    for r in theme_rows.head(SUMMARY_THEMES).itertuples(index=False):
        lines.append(f"Theme {r.position + 1}: {r.label} — {r.participants} of {analysed} participants, "
                     f"{r.mentions} mentions")
        for i, sid in enumerate(json.loads(r.quotes)[:SUMMARY_QUOTES], start=1):
            if sid in by_id.index:
                lines.append(f"  [Q{r.position + 1}.{i}] \"{by_id.loc[sid, 'text']}\"")
    return [
        {"role": "system", "content": f"Write a short cross-participant summary in the language '{language}' from "
         "this theme table. Cite quotes as [Q<theme>.<n>] exactly as given; do not invent quotes or numbers; say "
         "that counts describe this sample only."},
        {"role": "user", "content": "\n".join(lines)},
    ]


class Summarizer:
    def __init__(self, client, model: str):
        self.client, self.model = client, model

    def __call__(self, theme_rows: pd.DataFrame, statements: pd.DataFrame, inputs, stats: dict) -> str | None:
        if theme_rows.empty:
            return None
        try:
            out = self.client.structured(summary_prompt(theme_rows, statements, len(inputs.participants),
                                                        inputs.language), Summary,
                                         purpose="synthesis.summary", prompt_version=SUMMARY_VERSION)
        except Exception as exc:
            log.warning("model summary failed: %s", exc)
            return None
        text = out.summary.strip()
        return f"{text}\n\n(Written by the model {self.model} from the theme table and quotes.)" if text else None


class SentimentJudge:
    """`sentimenter(statements) -> [label or None per row]` for pipeline.synthesize (model mode).

    Labels are cached by content hash, so a re-run or an update only asks about statements not seen before.
    None where the model gave no valid label (the pipeline keeps the lexicon's label there)."""

    prompt_version = SENTIMENT_VERSION

    def __init__(self, db: Database, client, model: str, batch: int = SENTIMENT_BATCH):
        self.db, self.client, self.model, self.batch = db, client, model, batch
        self.calls = self.failures = self.cached = 0

    def __call__(self, statements: pd.DataFrame) -> list[str | None]:
        hashes = statements["content_hash"].tolist()
        texts = dict(zip(hashes, statements["text"].tolist()))
        known = {h: c.get("sentiment") for h, c in
                 repo.load_extractions(self.db, list(texts), self.model, SENTIMENT_VERSION).items()}
        self.cached = len(known)
        todo = [h for h in texts if h not in known]
        for i in range(0, len(todo), self.batch):
            chunk = todo[i:i + self.batch]
            judged = self._judge([texts[h] for h in chunk])
            new = {chunk[n]: label for n, label in judged.items()}
            if new:
                repo.save_labels(self.db, self.model, SENTIMENT_VERSION,
                                 {h: {"sentiment": label} for h, label in new.items()})
            known.update(new)
        return [known.get(h) for h in hashes]

    def _judge(self, texts: list[str]) -> dict[int, str]:
        """Index in `texts` -> label, for the statements the model labelled ({} when the call failed)."""
        numbered = "\n".join(f"{i}. {' '.join(t.split())}" for i, t in enumerate(texts, start=1))
        try:
            self.calls += 1
            out = self.client.structured(
                [{"role": "system", "content": "Judge the sentiment each numbered survey statement expresses: "
                  "positive, neutral or negative. Label every statement once, by its number; judge what the "
                  "participant says, not the topic."},
                 {"role": "user", "content": numbered}], SentimentBatch, purpose="synthesis.sentiment",
                prompt_version=SENTIMENT_VERSION)
        except Exception as exc:   # LLMError or anything unexpected: this batch keeps the lexicon
            self.failures += 1
            log.warning("sentiment batch failed: %s", exc)
            return {}
        return {x.n - 1: x.sentiment for x in out.labels if 1 <= x.n <= len(texts)}


def model_hooks(db: Database, session_ids: list[str] | None = None) -> dict[str, Callable] | None:
    """namer / extractor / summarizer / sentimenter for pipeline.synthesize in model mode, or None when offline.

    When one of `session_ids` asks for redaction, every text sent to the model is redacted first; a
    claim whose quote then no longer matches its message fails the verbatim check and is dropped.
    """
    client = _redacting(db, _client(db), session_ids or [])
    if client is None:
        return None
    model = client.settings.model_synthesis
    namer = Namer(client, model)
    namer.model = model
    hooks = {"namer": namer, "extractor": Extractor(db, client, model), "summarizer": Summarizer(client, model),
             "sentimenter": SentimentJudge(db, client, model)}
    embedder = endpoint_embedder(client)
    if embedder is not None:
        hooks["embedder"] = embedder
    return hooks


def endpoint_embedder(client):
    """The endpoint's /v1/embeddings (cached by content hash) when HARMONICA_SYNTHESIS_EMBEDDINGS=endpoint and one
    probe call succeeds; else None (the offline TF-IDF embedder). Opt-in: many local servers have no embeddings."""
    if live("HARMONICA_SYNTHESIS_EMBEDDINGS", "").strip().lower() != "endpoint":
        return None
    from core.synthesis.embed import FunctionEmbedder

    try:
        client.embed(["probe"], purpose="synthesis.embed")
    except Exception as exc:
        log.warning("the endpoint has no usable embeddings (%s): using TF-IDF", exc)
        return None
    return FunctionEmbedder(f"endpoint:{client.settings.model_embedding}",
                            lambda texts: client.embed(texts, purpose="synthesis.embed"), batch=256)


def model_answer(answer, db: Database | None = None, session_ids: list[str] | None = None):
    """Rewrite an offline ask-the-data answer with the model, from its citations only."""
    client = _redacting(db, _client(db), session_ids or []) if db is not None else None
    if client is None or not answer.citations:
        return answer
    quotes = "\n".join(f"{c.ref} \"{c.text}\"" for c in answer.citations)
    try:
        text = client.complete(
            [{"role": "system", "content": "Answer the researcher's question only from these participant quotes, "
              "citing them as [n]. If they do not answer it, say so."},
             {"role": "user", "content": f"Question: {answer.question}\n\nQuotes:\n{quotes}"}],
            purpose="synthesis.ask", prompt_version=ASK_VERSION)
    except Exception as exc:
        log.warning("model answer failed: %s", exc)
        return answer
    answer.answer = text.strip() or answer.answer
    answer.mode = "model"
    return answer
