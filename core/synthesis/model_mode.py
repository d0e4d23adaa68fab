"""Model mode for synthesis, through the public client of core.llm (structured output, validated).

- Extraction: per participant, the model lists the claims they made with an exact quote each, mapped to a critical
  item. It is cached by transcript hash (+ model + prompt version) in `synthesis_extractions`, so a new participant
  costs one extraction. Every quote must be an exact substring of one of that participant's answers; others are
  dropped and counted. A participant whose extraction fails is split offline instead.
- Naming: each theme is named from its most central statements (one per participant, up to 8) and 4 from other
  themes. A name must be non-empty, short (at most 6 words, 60 characters), not generic ("Other", "Theme 3") and
  not another theme's; a name that is not gets one repair request saying why, then the offline label stays.
- Summary: written from the theme table and at most two quotes per theme (never from transcripts), so its prompt
  does not grow with the number of participants. It cites themes as [T<n>] and quotes as [Q<n>.<m>]; the citations
  are checked against the table (summary.check_citations: no invented theme or quote, no uncited claim, no number or
  quotation the table does not have), with one repair request, then the templated summary.
- Ask the data: an answer written from the retrieved quotes only, citing them.
- Sentiment: statements labelled positive / neutral / negative in numbered batches, cached by the statement's
  content hash (+ model + prompt version); a batch that fails, or a statement left unlabelled, keeps the offline
  lexicon's label, and the run's stats say which was used.
Any model failure falls back to the offline result for that step.

At scale: extraction, naming and sentiment calls run concurrently, at most HARMONICA_SYNTHESIS_CONCURRENCY (default
4) at once. One circuit breaker per run: after HARMONICA_SYNTHESIS_BREAKER (default 3) failed calls in a row (or one
rejected key), the model is not called again in that run and every remaining item is done offline.
`ModelSynthesis` (models.SynthesisModel) holds the steps; its `account()` writes into the run's stats how much of
it came from the model; a run with no model output in it is stored as offline, and says the model was unavailable.
"""

from __future__ import annotations

import contextvars
import hashlib
import json
import logging
import re
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor, as_completed
from typing import TYPE_CHECKING, Callable, Iterable, Iterator, Literal, NamedTuple, TypeVar

import pandas as pd
from pydantic import BaseModel, Field

from core.config import live
from core.db import Database
from core.llm.errors import LLMAuthError, LLMError
from core.llm.scope import ScopedModel, call_scope
from core.repos import synthesis as repo
from core.synthesis.models import EXTRACT, NAME, SENTIMENT, SUMMARY, OfflineSynthesis, SynthesisModel
from core.synthesis.summary import SummaryTable, TableTheme, check_citations
from core.synthesis.theme_names import label_in_use, label_key
from core.synthesis.units import STATEMENT_COLUMNS, build_statements, content_hash

if TYPE_CHECKING:
    from core.synthesis.embed import FunctionEmbedder

log = logging.getLogger(__name__)

EXTRACT_VERSION = "extract-claims-v1"
NAME_VERSION = "theme-name-v2"
SUMMARY_VERSION = "summary-v2"
ASK_VERSION = "ask-v1"
SENTIMENT_VERSION = "sentiment-v1"
SENTIMENT_BATCH = 40
INSIDE, OUTSIDE, SUMMARY_THEMES, SUMMARY_QUOTES = 8, 4, 12, 2
SAVE_EVERY = 50   # extractions saved to the cache in one transaction
LABEL_WORDS, LABEL_CHARS = 6, 60
_GENERIC = re.compile(r"^(?:(?:theme|topic|cluster|group|category|thème|tema)\s*#?\d*|other|others|misc\.?|"
                      r"miscellaneous|general|various|none|n/?a|unknown|untitled|autre|autres|otro|otros)$")
T = TypeVar("T")
R = TypeVar("R")


def concurrency() -> int:
    """Model calls a synthesis run makes at once (HARMONICA_SYNTHESIS_CONCURRENCY, 1-32, default 4)."""
    return live("HARMONICA_SYNTHESIS_CONCURRENCY")


def breaker_limit() -> int:
    """Failed calls in a row after which a run stops calling the model (HARMONICA_SYNTHESIS_BREAKER, default 3)."""
    return live("HARMONICA_SYNTHESIS_BREAKER")


class ModelUnavailable(LLMError):
    """No call was made: the run's circuit breaker is open."""

    outcome = "skipped"


class Breaker:
    """One per synthesis run, shared by its model steps (and their threads).

    `call(purpose, fn)` makes the call and counts it; after `limit` failures in a row (or one rejected key: it will
    not get better within a run) it opens, and every later `call` raises ModelUnavailable without calling, so the
    remaining items fall back offline at once. A success resets the count. Also tracks how many calls were in
    flight at once."""

    def __init__(self, limit: int | None = None):
        self.limit = limit or breaker_limit()
        self._lock = threading.Lock()
        self.in_a_row = 0
        self.calls: Counter[str] = Counter()
        self.failures: Counter[str] = Counter()
        self.skipped: Counter[str] = Counter()
        self.opened: dict | None = None
        self.last_error = ""
        self.in_flight = self.peak = 0

    @property
    def is_open(self) -> bool:
        return self.opened is not None

    def call(self, purpose: str, fn: Callable[[], T]) -> T:
        with self._lock:
            if self.opened is not None:
                self.skipped[purpose] += 1
                raise ModelUnavailable("The model was not called: it failed too often in this run.")
            self.calls[purpose] += 1
            self.in_flight += 1
            self.peak = max(self.peak, self.in_flight)
        try:
            result = fn()
        except Exception as exc:
            with self._lock:
                self.in_flight -= 1
                self.failures[purpose] += 1
                self.in_a_row += 1
                self.last_error = " ".join(str(exc).split())[:300] or type(exc).__name__
                if self.opened is None and (self.in_a_row >= self.limit or isinstance(exc, LLMAuthError)):
                    self.opened = {"purpose": purpose, "failures_in_a_row": self.in_a_row, "error": self.last_error}
                    log.warning("synthesis: %d model calls failed in a row (%s); no more model calls in this run",
                                self.in_a_row, self.last_error)
            raise
        with self._lock:
            self.in_flight -= 1
            self.in_a_row = 0
        return result

    def stats(self) -> dict:
        return {"calls": sum(self.calls.values()), "failures": sum(self.failures.values()),
                "skipped": sum(self.skipped.values()), "opened": self.opened, "max_in_flight": self.peak,
                "by_purpose": {p: {"calls": self.calls[p], "failures": self.failures[p], "skipped": self.skipped[p]}
                               for p in sorted(set(self.calls) | set(self.skipped))}}


def bounded_map(fn: Callable[[T], R], items: Iterable[T], workers: int) -> Iterator[tuple[T, R]]:
    """(item, fn(item)) for each item as it finishes, at most `workers` at a time; each call runs in a copy of the
    caller's context (the call log's scope). `fn` should not raise; if it does, the error propagates."""
    items = list(items)
    if workers <= 1 or len(items) <= 1:
        for item in items:
            yield item, fn(item)
        return
    pool = ThreadPoolExecutor(max_workers=min(workers, len(items)), thread_name_prefix="synthesis-model")
    try:
        futures = {pool.submit(contextvars.copy_context().run, fn, item): i for i, item in enumerate(items)}
        for future in as_completed(futures):
            yield items[futures[future]], future.result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


class Claim(BaseModel):
    quote: str = Field(description="an exact, verbatim excerpt of the participant's answer")
    critical_item: str | None = Field(default=None, description="the critical item it informs, if any")
    point: str = Field(default="", description="the claim in a few words")


class Claims(BaseModel):
    claims: list[Claim] = Field(default_factory=list)


class ThemeName(BaseModel):
    label: str = Field(description="a short theme name in participants' own words, at most 6 words")
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


def _model_for(db: Database, client, session_ids: list[str]):
    """The client as the sessions need it: redacting when one asks for it, and its calls logged under the session
    (when there is one)."""
    from core.privacy import RedactingModel, redacts, session_names

    if client is None:
        return None
    if redacts(db, session_ids):
        client = RedactingModel(client, session_names(db, session_ids))
    return ScopedModel(client, session_ids[0]) if len(session_ids) == 1 else client


def transcript_hash(answers: pd.DataFrame) -> str:
    return _hash_rows(_answer_rows(answers))


class _Answer(NamedTuple):
    i: int                  # position in the answers frame
    message_id: str
    participant_id: str
    session_id: str
    guide_version: int
    step: int
    content: str


def _answer_rows(answers: pd.DataFrame) -> list[_Answer]:
    """The answers as plain tuples: pandas' itertuples costs ~10 ms per call, so never once per participant."""
    cols = [answers[c].tolist() for c in ("message_id", "participant_id", "session_id", "guide_version", "step",
                                          "content")]
    return [_Answer(i, m, p, s, int(g), int(st), c) for i, (m, p, s, g, st, c) in enumerate(zip(*cols))]


def _hash_rows(rows: list[_Answer]) -> str:
    h = hashlib.sha256()
    for r in rows:
        h.update(f"{r.message_id}\x00{r.step}\x00{r.content}\x01".encode("utf-8"))
    return h.hexdigest()[:32]


class Extractor:
    """`extractor(answers, questions) -> statements`: ModelSynthesis.extract.

    Transcripts not in the cache are extracted concurrently (at most `workers` calls at once); results are saved
    to the cache as they arrive. After the breaker opens, the remaining participants are split offline."""

    def __init__(self, db: Database, client, model: str, min_words: int = 3, breaker: Breaker | None = None,
                 workers: int | None = None):
        self.db, self.client, self.model, self.min_words = db, client, model, min_words
        self.breaker = breaker or Breaker()
        self.workers = workers or concurrency()
        self._lock = threading.Lock()
        self.calls = 0            # extraction requests made (cache misses that reached the model)
        self.dropped = 0          # quotes not found verbatim: never shown
        self.fallbacks = 0        # participants split offline (call failed or skipped, or no verbatim claim)
        self.from_model = 0       # participants whose statements came from the model (fresh or cached)
        self.participants = 0
        self.cached = 0           # participants whose extraction came from the cache
        self.skipped = 0          # participants not sent because the breaker was open

    def __call__(self, answers: pd.DataFrame, questions: dict) -> pd.DataFrame:
        by_participant: dict[str, list[_Answer]] = {}
        for r in _answer_rows(answers):
            by_participant.setdefault(r.participant_id, []).append(r)
        hashes = {pid: _hash_rows(rows) for pid, rows in by_participant.items()}
        cached = repo.load_extractions(self.db, list(hashes.values()), self.model, EXTRACT_VERSION)
        self.participants = len(by_participant)
        self.cached = sum(1 for h in hashes.values() if h in cached)
        todo = [pid for pid in by_participant if hashes[pid] not in cached]
        fresh: dict[str, dict] = {}
        unsaved: list[tuple[str, str, dict]] = []
        for pid, claims in bounded_map(lambda pid: self._extract(pid, by_participant[pid], questions), todo,
                                       self.workers):
            if claims is not None:
                fresh[pid] = claims
                unsaved.append((hashes[pid], pid, claims))
            if len(unsaved) >= SAVE_EVERY:      # saved as they come, in bulk: a run cut short keeps most of them
                repo.save_extractions(self.db, self.model, EXTRACT_VERSION, unsaved)
                unsaved = []
        repo.save_extractions(self.db, self.model, EXTRACT_VERSION, unsaved)
        # participants in order; consecutive ones of one kind (model spans / split offline) built in one go
        chunks: list[tuple[str, list]] = []
        for pid, rows in by_participant.items():
            claims = cached.get(hashes[pid], fresh.get(pid))
            spans = self._spans(rows, questions, claims) if claims is not None else None
            kind, items = ("model", spans) if spans else ("offline", [r.i for r in rows])
            if spans:
                self.from_model += 1
            else:
                self.fallbacks += 1
            if chunks and chunks[-1][0] == kind:
                chunks[-1][1].extend(items)
            else:
                chunks.append((kind, list(items)))
        frames = [pd.DataFrame(items, columns=STATEMENT_COLUMNS) if kind == "model" else
                  build_statements(answers.iloc[items], questions, self.min_words) for kind, items in chunks]
        if not frames:
            return pd.DataFrame(columns=STATEMENT_COLUMNS)
        return pd.concat(frames, ignore_index=True).drop_duplicates("statement_id")

    def _extract(self, pid: str, rows: list[_Answer], questions: dict) -> dict | None:
        lines = []
        for r in rows:
            q, item = questions.get((r.session_id, r.guide_version, r.step), ("", None))
            lines.append(f"Question ({item or 'open'}): {q}\nAnswer: {r.content}")
        items = sorted({v[1] for v in questions.values() if v[1]})
        messages = [
            {"role": "system", "content": "You extract the distinct claims a survey participant made. For each, copy "
             "an exact, verbatim quote from their answer (do not change a character) and name the critical item it "
             f"informs (one of: {', '.join(items) or 'none'}), or null."},
            {"role": "user", "content": "\n\n".join(lines)},
        ]
        try:
            with call_scope(rows[0].session_id if rows else None, pid):
                out = self.breaker.call("synthesis.extract", lambda: self._ask(messages))
        except ModelUnavailable:
            with self._lock:
                self.skipped += 1
            return None
        except Exception as exc:  # LLMError or anything unexpected: this participant is split offline
            log.warning("extraction failed for %s: %s", pid, exc)
            return None
        return out.model_dump()

    def _ask(self, messages):
        with self._lock:
            self.calls += 1
        return self.client.structured(messages, Claims, purpose="synthesis.extract", prompt_version=EXTRACT_VERSION)

    def _spans(self, rows: list[_Answer], questions: dict, claims: dict) -> list[tuple]:
        out = []
        for c in claims.get("claims", []):
            quote = (c.get("quote") or "").strip()
            hit = next(((r, r.content.find(quote)) for r in rows if quote and quote in r.content), None)
            if hit is None:
                self.dropped += 1     # not said verbatim: never shown
                continue
            r, pos = hit
            q, item = questions.get((r.session_id, r.guide_version, r.step), ("", None))
            out.append((f"{r.message_id}:{pos}", r.message_id, r.participant_id, r.session_id, r.step,
                        c.get("critical_item") or item, q, pos, pos + len(quote), quote, content_hash(quote)))
        return out


def check_label(label: str, taken: dict[str, str], theme_id: str) -> tuple[str, str | None]:
    """(the label cleaned, why it cannot be used or None). `taken`: theme id -> label of the run's other themes."""
    clean = " ".join(str(label).split()).strip(" \"'“”«»‘’.,;:-–—*#`")
    if not clean:
        return clean, "it is empty"
    if len(clean.split()) > LABEL_WORDS or len(clean) > LABEL_CHARS:
        return clean, f"it is too long (at most {LABEL_WORDS} words and {LABEL_CHARS} characters)"
    if _GENERIC.match(label_key(clean)):
        return clean, "it is too generic: name what these statements have in common"
    other = label_in_use(clean, taken, {theme_id})
    if other is not None:
        return clean, f"another theme is already called “{taken[other]}”"
    return clean, None


class Namer:
    """`namer(themes, statements)`, ModelSynthesis.name_themes: the model names each theme from its quotes.

    One structured call per theme, concurrently (bounded); each name is checked (check_label) in theme order, so the
    largest theme keeps a contested name; a name that fails gets one repair request, then the offline label
    stays. Themes a person renamed, and an "Other" theme, are left as they are."""

    prompt_version = NAME_VERSION

    def __init__(self, client, model: str, breaker: Breaker | None = None, workers: int | None = None):
        self.client, self.model = client, model
        self.breaker = breaker or Breaker()
        self.workers = workers or concurrency()
        self._lock = threading.Lock()
        self.calls = 0
        self.considered = 0   # themes the model was asked to name
        self.named = 0        # themes named by the model
        self.rejected: list[str] = []   # names refused, and why (plain words)

    def __call__(self, themes: dict, statements: pd.DataFrame) -> None:
        todo = [tid for tid, th in themes.items()
                if not th.renamed and getattr(th, "origin", "") != "other" and label_key(th.label) != "other"]
        self.considered = len(todo)
        prompts = {tid: self._messages(tid, statements) for tid in todo}
        replies = dict(bounded_map(lambda tid: self._ask(prompts[tid]), todo, self.workers))
        taken = {tid: th.label for tid, th in themes.items() if tid not in todo}
        for tid in todo:       # theme order: the largest first
            th, out = themes[tid], replies.get(tid)
            why = "the model gave no name"
            if out is not None:
                label, why = check_label(out.label, taken, tid)
                if why:
                    retry = self._ask(prompts[tid] + [
                        {"role": "assistant", "content": json.dumps(out.model_dump(), ensure_ascii=False)},
                        {"role": "user", "content": f"The name “{label}” cannot be used: {why}. Reply with another "
                         f"name (at most {LABEL_WORDS} words) that fits the first group of statements."}])
                    if retry is not None:
                        out = retry
                        label, why = check_label(out.label, taken, tid)
            if why:
                if out is not None:
                    self.rejected.append(f"{tid}: {why}")
                taken[tid] = th.label            # the offline label stays
                continue
            th.label = label
            th.description = " ".join(out.description.split())[:300] or th.description
            taken[tid] = label
            self.named += 1

    def _messages(self, tid: str, statements: pd.DataFrame) -> list[dict]:
        mine = statements[statements["theme_id"] == tid].sort_values(["score", "statement_id"],
                                                                     ascending=[False, True])
        central = mine.drop_duplicates("participant_id")["text"].head(INSIDE)   # one per participant first
        if len(central) < INSIDE:
            central = pd.concat([central, mine["text"][~mine["text"].isin(central)]]).head(INSIDE)
        outside = statements[statements["theme_id"] != tid]["text"]
        outside = outside.sample(min(OUTSIDE, len(outside)), random_state=0) if len(outside) else outside
        prompt = ("Statements in the theme:\n" + "\n".join(f"- {t}" for t in central) +
                  "\n\nStatements from other themes (for contrast):\n" + "\n".join(f"- {t}" for t in outside))
        return [{"role": "system", "content": "Name the theme shared by the first group of survey statements, "
                 "distinguishing it from the second group: a short phrase (at most 6 words) in the participants' "
                 "own words and language, never a generic name like “Other” or “Theme 3”."},
                {"role": "user", "content": prompt}]

    def _ask(self, messages: list[dict]) -> ThemeName | None:
        def call():
            with self._lock:
                self.calls += 1
            return self.client.structured(messages, ThemeName, purpose="synthesis.name", prompt_version=NAME_VERSION)

        try:
            return self.breaker.call("synthesis.name", call)
        except Exception as exc:
            if not isinstance(exc, ModelUnavailable):
                log.warning("naming failed: %s", exc)
            return None


def summary_table(theme_rows: pd.DataFrame, statements: pd.DataFrame, analysed: int) -> SummaryTable:
    """The largest themes (at most SUMMARY_THEMES) with at most SUMMARY_QUOTES quotes each, numbered as on the
    results page: theme [T<position + 1>], quote [Q<position + 1>.<i>]."""
    by_id = statements.set_index("statement_id")["text"]
    by_id = by_id[~by_id.index.duplicated()]
    themes = []
    for r in theme_rows.head(SUMMARY_THEMES).itertuples(index=False):
        quotes = {}
        for i, sid in enumerate(json.loads(r.quotes)[:SUMMARY_QUOTES], start=1):
            if sid in by_id.index:
                quotes[f"Q{r.position + 1}.{i}"] = str(by_id.loc[sid])
        themes.append(TableTheme(int(r.position) + 1, str(r.label), int(r.participants), int(r.mentions), quotes))
    return SummaryTable(themes, int(analysed), int(len(theme_rows)))


def summary_messages(table: SummaryTable, language: str) -> list[dict]:
    lines = []
    for t in table.themes:
        lines.append(f"[T{t.number}] Theme {t.number}: {t.label} — {t.participants} of {table.analysed} "
                     f"participants, {t.mentions} mentions")
        lines += [f"  [{ref}] \"{text}\"" for ref, text in t.quotes.items()]
    if table.total_themes > len(table.themes):
        lines.append(f"({table.total_themes - len(table.themes)} smaller themes are not listed.)")
    return [
        {"role": "system", "content": f"Write a short cross-participant summary in the language '{language}' from "
         "this theme table. End every sentence that says something about participants with its citations: the "
         "theme as [T<n>] and/or a quote as [Q<n>.<m>], exactly as given. Use only the themes, quotes and numbers "
         "in the table; do not invent quotes or numbers; say that counts describe this sample only."},
        {"role": "user", "content": "\n".join(lines)},
    ]


def summary_prompt(theme_rows: pd.DataFrame, statements: pd.DataFrame, analysed: int, language: str) -> list[dict]:
    return summary_messages(summary_table(theme_rows, statements, analysed), language)


class Summarizer:
    """`summarizer(theme rows, statements, inputs, stats)`, ModelSynthesis.summarize: a model-written summary whose
    citations pass summary.check_citations (after at most one repair request), or None (the templated summary).
    Says in `stats` which was used: summary_source = model | model (repaired) | templated, and why."""

    def __init__(self, client, model: str, breaker: Breaker | None = None):
        self.client, self.model = client, model
        self.breaker = breaker or Breaker()
        self.calls = 0

    def __call__(self, theme_rows: pd.DataFrame, statements: pd.DataFrame, inputs, stats: dict) -> str | None:
        if theme_rows.empty:
            return None
        table = summary_table(theme_rows, statements, len(inputs.participants))
        messages = summary_messages(table, inputs.language)
        text = self._ask(messages, stats)
        if text is None:
            return None
        problems = check_citations(text, table)
        source = "model"
        if problems:
            log.info("model summary refused (%s); asking once more", "; ".join(problems))
            stats["summary_problems"] = problems
            text = self._ask(messages + [
                {"role": "assistant", "content": json.dumps({"summary": text}, ensure_ascii=False)},
                {"role": "user", "content": "This summary cannot be shown: " + "; ".join(problems) + ". Rewrite it "
                 "using only the table: cite themes as [T<n>] and quotes as [Q<n>.<m>] exactly as listed, end every "
                 "sentence that says something about participants with its citations, and use only the table's "
                 "numbers and quotes."}], stats)
            if text is None:
                return None
            problems = check_citations(text, table)
            if problems:
                stats["summary_source"] = "templated"
                stats["summary_rejected"] = problems
                return None
            source = "model (repaired)"
        stats["summary_source"] = source
        return (f"{text}\n\n(Written by the model {self.model} from the theme table and quotes; its citations were "
                f"checked against the table.)")

    def _ask(self, messages: list[dict], stats: dict) -> str | None:
        def call():
            self.calls += 1
            return self.client.structured(messages, Summary, purpose="synthesis.summary",
                                          prompt_version=SUMMARY_VERSION)

        try:
            out = self.breaker.call("synthesis.summary", call)
        except ModelUnavailable:
            stats["summary_source"] = "templated (model unavailable)"
            return None
        except Exception as exc:
            log.warning("model summary failed: %s", exc)
            stats["summary_source"] = "templated (model call failed)"
            return None
        return out.summary.strip()


class SentimentJudge:
    """`sentimenter(statements) -> [label or None per row]`: ModelSynthesis.judge_sentiment.

    Labels are cached by content hash, so a re-run or an update only asks about statements not seen before. Batches
    run concurrently (bounded). None where the model gave no valid label (the pipeline keeps the lexicon's label
    there)."""

    prompt_version = SENTIMENT_VERSION

    def __init__(self, db: Database, client, model: str, batch: int = SENTIMENT_BATCH, breaker: Breaker | None = None,
                 workers: int | None = None):
        self.db, self.client, self.model, self.batch = db, client, model, batch
        self.breaker = breaker or Breaker()
        self.workers = workers or concurrency()
        self._lock = threading.Lock()
        self.calls = self.failures = self.cached = self.skipped = 0

    def __call__(self, statements: pd.DataFrame) -> list[str | None]:
        hashes = statements["content_hash"].tolist()
        texts = dict(zip(hashes, statements["text"].tolist()))
        known = {h: c.get("sentiment") for h, c in
                 repo.load_extractions(self.db, list(texts), self.model, SENTIMENT_VERSION).items()}
        self.cached = len(known)
        todo = [h for h in texts if h not in known]
        chunks = [todo[i:i + self.batch] for i in range(0, len(todo), self.batch)]
        for chunk, judged in bounded_map(lambda c: self._judge([texts[h] for h in c]), chunks, self.workers):
            new = {chunk[n]: label for n, label in judged.items()}
            if new:
                repo.save_labels(self.db, self.model, SENTIMENT_VERSION,
                                 {h: {"sentiment": label} for h, label in new.items()})
            known.update(new)
        return [known.get(h) for h in hashes]

    def _judge(self, texts: list[str]) -> dict[int, str]:
        """Index in `texts` -> label, for the statements the model labelled ({} when the call failed)."""
        numbered = "\n".join(f"{i}. {' '.join(t.split())}" for i, t in enumerate(texts, start=1))

        def call():
            with self._lock:
                self.calls += 1
            return self.client.structured(
                [{"role": "system", "content": "Judge the sentiment each numbered survey statement expresses: "
                  "positive, neutral or negative. Label every statement once, by its number; judge what the "
                  "participant says, not the topic."},
                 {"role": "user", "content": numbered}], SentimentBatch, purpose="synthesis.sentiment",
                prompt_version=SENTIMENT_VERSION)

        try:
            out = self.breaker.call("synthesis.sentiment", call)
        except ModelUnavailable:
            with self._lock:
                self.skipped += 1
            return {}
        except Exception as exc:   # LLMError or anything unexpected: this batch keeps the lexicon
            with self._lock:
                self.failures += 1
            log.warning("sentiment batch failed: %s", exc)
            return {}
        return {x.n - 1: x.sentiment for x in out.labels if 1 <= x.n <= len(texts)}


def model_synthesis(db: Database, session_ids: list[str] | None = None) -> SynthesisModel:
    """ModelSynthesis through the configured client, or OfflineSynthesis when no model is configured.

    When one of `session_ids` asks for redaction, every text sent to the model is redacted first; a
    claim whose quote then no longer matches its message fails the verbatim check and is dropped.
    """
    client = _model_for(db, _client(db), session_ids or [])
    if client is None:
        return OfflineSynthesis()
    return ModelSynthesis(db, client, client.settings.model_synthesis, embedder=endpoint_embedder(client))


def endpoint_embedder(client):
    """The endpoint's /v1/embeddings (cached by content hash) when HARMONICA_SYNTHESIS_EMBEDDINGS=endpoint and one
    probe call succeeds; else None (the offline embedder: packaged MiniLM, or TF-IDF). Opt-in: many local servers
    have no embeddings."""
    if live("HARMONICA_SYNTHESIS_EMBEDDINGS").strip().lower() != "endpoint":
        return None
    from core.synthesis.embed import FunctionEmbedder

    try:
        client.embed(["probe"], purpose="synthesis.embed")
    except Exception as exc:
        log.warning("the endpoint has no usable embeddings (%s): using the offline embedder", exc)
        return None
    return FunctionEmbedder(f"endpoint:{client.settings.model_embedding}",
                            lambda texts: client.embed(texts, purpose="synthesis.embed"), batch=256)


def model_answer(answer, db: Database | None = None, session_ids: list[str] | None = None):
    """Rewrite an offline ask-the-data answer with the model, from its citations only."""
    client = _model_for(db, _client(db), session_ids or []) if db is not None else None
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


# ------------------------------------------------------------------------- the model for a run, and what it made


def _of(a: int, b: int) -> str:
    return f"{a:,} of {b:,}"


class ModelSynthesis:
    """models.SynthesisModel through a chat model: extraction, naming, summary and sentiment, each falling back to
    the offline result where the model fails. Its steps share one circuit breaker and one concurrency limit.
    `sentiment=False` leaves sentiment to the lexicon (bench.synthesis_tokens measures the other steps)."""

    mode = "model"
    prompt_version = NAME_VERSION

    def __init__(self, db: Database, client, model: str, *, embedder: FunctionEmbedder | None = None,
                 sentiment: bool = True):
        self.model, self.embedder = model, embedder
        self.breaker, self.workers = Breaker(), concurrency()
        self.extractor = Extractor(db, client, model, breaker=self.breaker, workers=self.workers)
        self.namer = Namer(client, model, self.breaker, self.workers)
        self.summarizer = Summarizer(client, model, self.breaker)
        self.sentimenter = (SentimentJudge(db, client, model, breaker=self.breaker, workers=self.workers)
                            if sentiment else None)
        self.steps = frozenset({EXTRACT, NAME, SUMMARY} | ({SENTIMENT} if sentiment else set()))

    def extract(self, answers: pd.DataFrame, questions: dict, min_words: int) -> pd.DataFrame:
        # a participant split offline is split with the extractor's own min_words (3), as before this object
        return self.extractor(answers, questions)

    def name_themes(self, themes: dict, statements: pd.DataFrame) -> None:
        self.namer(themes, statements)

    def summarize(self, theme_rows: pd.DataFrame, statements: pd.DataFrame, inputs, stats: dict) -> str | None:
        return self.summarizer(theme_rows, statements, inputs, stats)

    def judge_sentiment(self, statements: pd.DataFrame) -> list[str | None]:
        return self.sentimenter(statements) if self.sentimenter else [None] * len(statements)

    def extraction_stats(self) -> dict:
        ex = self.extractor
        return {"calls": ex.calls, "dropped": ex.dropped, "fallbacks": ex.fallbacks}

    def sentiment_stats(self) -> dict:
        judge = self.sentimenter
        return {"calls": judge.calls, "failures": judge.failures, "cached": judge.cached} if judge else {}

    def account(self, stats: dict, *, named: bool, inherited: dict | None) -> str:
        """Write into the run's stats how much of it came from the model, and return the mode to store: "model"
        when any model output is in the run, else "offline" (the model was unavailable, or nothing it returned
        could be used). `named` is False on an update (the themes keep their names: `inherited` is the previous
        run's stats). Adds: model_use (per step: from the model / total), model_label ("model", "model
        (partial)" or "offline (model unavailable)"), model_note (plain words, also appended to the summary when
        the run is not wholly the model's), model_calls (calls, failures, skipped, breaker, concurrency, max in
        flight)."""
        ex, namer = self.extractor, self.namer
        use: dict = {}
        output, partial, parts = 0, False, []
        n, total = ex.from_model, ex.participants
        use["extraction"] = {"model": n, "participants": total, "cached": ex.cached, "calls": ex.calls,
                             "skipped": ex.skipped}
        output += n
        if n < total:
            partial = True
            parts.append(f"statements of {_of(n, total)} participants extracted by the model (the others split "
                         "offline)")
        if named:
            use["naming"] = {"model": namer.named, "themes": namer.considered, "rejected": namer.rejected}
            output += namer.named
            if namer.named < namer.considered:
                partial = True
                parts.append(f"{_of(namer.named, namer.considered)} themes named by the model (the others keep "
                             "their offline labels)")
        elif inherited and isinstance(inherited.get("model_use"), dict) and "naming" in inherited["model_use"]:
            use["naming"] = {**inherited["model_use"]["naming"], "inherited": True}
            output += int(use["naming"].get("model", 0))
        source = stats.get("summary_source", "templated")
        use["summary"] = source
        if source.startswith("model"):
            output += 1
        else:
            partial = True
            parts.append("the summary templated" + (" (the model's did not pass the citation check)"
                                                    if stats.get("summary_rejected") else ""))
        if self.sentimenter is not None and "sentiment_model" in stats:
            n = int(stats["sentiment_model"])
            total = n + int(stats.get("sentiment_lexicon", 0))
            use["sentiment"] = {"model": n, "statements": total}
            output += n
            if n < total:
                partial = True
                parts.append(f"sentiment of {_of(n, total)} statements judged by the model (the lexicon's "
                             "elsewhere)")
        calls = {**self.breaker.stats(), "concurrency": self.workers, "breaker_limit": self.breaker.limit}
        stats["model_use"], stats["model_calls"], stats["requested_mode"] = use, calls, "model"
        opened = self.breaker.opened
        why = ""
        if opened:
            why = (f"after {opened['failures_in_a_row']} failed model calls in a row ({opened['error']}), the model "
                   "was not called again in this run")
        if not output:
            stats["model_label"] = "offline (model unavailable)"
            reason = why or ("the model's calls failed" if calls.get("failures") else "nothing the model returned "
                             "could be used")
            stats["model_note"] = (f"Model mode was requested but the model was unavailable: {reason}. Everything "
                                   "in this run was made offline.")
            return "offline"
        if partial or opened:
            stats["model_label"] = "model (partial)"
            stats["model_note"] = ("Made partly by the model: " + "; ".join(parts) + "." +
                                   (f" {why[0].upper()}{why[1:]}." if why else ""))
        else:
            stats["model_label"] = "model"
        return "model"
