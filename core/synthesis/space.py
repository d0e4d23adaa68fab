"""The space statements are clustered in: what each statement's vector is made of.

- The sentence model's vector of the statement's feature text (cached by content hash), or the run's TF-IDF + LSA
  when no sentence model is installed;
- read with its answer where it needs it (`_in_context`): a statement unlike what other participants said carries
  part of its answer's vector;
- beside the run's own words (`_with_words`): LEXICAL_WEIGHT times a TF-IDF + LSA fitted on the run.
Full runs, updates and codebook edits all build vectors here, so a theme's centre and a new statement always live
in the same space.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from core.db import Database
from core.repos import synthesis as repo
from core.synthesis.embed import TfidfLsa, embed_with_cache
from core.synthesis.units import content_hash


def embed_features(db: Database, embedder, texts: list[str]) -> tuple[np.ndarray, int]:
    """Vectors of feature texts with a corpus-independent embedder, cached by the feature text's content hash."""
    return embed_with_cache(embedder, [content_hash(t) for t in texts], texts,
                            lambda key, hashes: repo.load_embeddings(db, key, hashes),
                            lambda key, vectors: repo.save_embeddings(db, key, vectors))


# How much of its answer a statement's vector carries when the statement is unlike what others said (answers with
# several statements only). Read alone, "I was woken up four nights in a row" or "Most status updates could move to
# a written thread" lose what they are about; a statement others also made ("Too many meetings eat the calendar")
# stands on its own, so an answer making two such points still splits. On the seeded demo (30 participants) the
# statements' themes agreed with their answers' topics at NMI 0.345 before (sentences alone), 0.541 with this and
# the joining of continuing sentences (units.continues_previous); the test topics' ARI holds (> 0.5). An update
# measures "unlike" among its new statements.
ANSWER_CONTEXT = 0.5


def _in_context(x: np.ndarray, message_ids: list[str], texts: list[str],
                embed: Callable[[list[str]], tuple[np.ndarray, int]]) -> tuple[np.ndarray, int]:
    """Each statement's vector plus ANSWER_CONTEXT times its answer's (the answer's feature texts joined), unit
    length, for statements unlike what others said (`_idiosyncratic`); returns (vectors, answers embedded)."""
    rows: dict[str, list[int]] = {}
    for i, mid in enumerate(message_ids):
        rows.setdefault(mid, []).append(i)
    multi = [r for r in rows.values() if len(r) > 1]
    if not multi or len(x) == 0:
        return x, 0
    lonely = _idiosyncratic(x, texts)
    multi = [r for r in multi if lonely[r].any()]
    if not multi:
        return x, 0
    answers, embedded = embed([" ".join(texts[i] for i in r) for r in multi])
    answers = answers / np.maximum(np.linalg.norm(answers, axis=1, keepdims=True), 1e-12)
    out = np.array(x, dtype=np.float32, copy=True)
    for vec, r in zip(answers, multi):
        for i in r:
            if lonely[i]:
                out[i] += ANSWER_CONTEXT * vec
    return (out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)).astype(np.float32), embedded


NEIGHBOURS = 5
NEIGHBOUR_SAMPLE = 3000


def _idiosyncratic(x: np.ndarray, texts: list[str]) -> np.ndarray:
    """True for statements less like other statements than the median one is (mean similarity to their NEIGHBOURS
    nearest distinct texts, among at most NEIGHBOUR_SAMPLE): what others also said stands on its own."""
    distinct = {t: i for i, t in enumerate(texts)}
    ref = np.array(sorted(distinct.values()))
    if len(ref) > NEIGHBOUR_SAMPLE:
        ref = np.sort(np.random.default_rng(0).choice(ref, NEIGHBOUR_SAMPLE, replace=False))
    m = min(NEIGHBOURS, len(ref) - 1)
    if m < 1:
        return np.zeros(len(x), dtype=bool)
    typical = np.empty(len(x), dtype=np.float32)
    ref_text = np.array([texts[i] for i in ref], dtype=object)
    for start in range(0, len(x), 1000):
        block = x[start:start + 1000] @ x[ref].T
        own = ref_text[None, :] == np.array(texts[start:start + 1000], dtype=object)[:, None]
        block[own] = -1.0                    # the same words said again are not a neighbour
        typical[start:start + 1000] = -np.sort(-np.partition(block, -m, axis=1)[:, -m:], axis=1).mean(axis=1)
    typical = np.round(typical.astype(np.float64), 4)   # summation order (threads) must not flip a tie
    return typical < np.median(typical)


# The sentence model's vectors sit beside LEXICAL_WEIGHT times a TF-IDF + LSA (LEXICAL_DIMS) of the run's own
# statements. The sentence model reads "on-call" and "a call" as neighbours: on the seeded demo the on-call statements
# joined "every decision seems to need a call" and no on-call theme came out; with the words beside it, on-call,
# deploys, meetings, customers, priorities and pairing each have a theme. Banking77 (MiniLM, Ward): NMI 0.800 -> 0.804
# with automatic k (4..100), 0.798 -> 0.802 at k=77; a weight of 0.5 fell to k=4, NMI 0.33 (bench/RESULTS.md).
LEXICAL_WEIGHT = 0.3
LEXICAL_DIMS = 100


def run_space(db: Database, embedder, model: TfidfLsa | None) -> Callable[[list[str]], tuple[np.ndarray, int]]:
    """The run's vectors for feature texts, and how many the sentence model computed (the rest were cached): the
    fitted TF-IDF `model` alone without a sentence model, else the sentence model's beside the lexical part."""
    def vectors(texts: list[str]) -> tuple[np.ndarray, int]:
        if embedder is None:
            return model.embed(texts), 0
        x, computed = embed_features(db, embedder, texts)
        return _with_words(x, texts, model), computed
    return vectors


def _with_words(x: np.ndarray, texts: list[str], model: TfidfLsa | None) -> np.ndarray:
    """Sentence-model vectors beside LEXICAL_WEIGHT times the run's TF-IDF + LSA of the same texts, unit length."""
    if model is None or not len(x):
        return x
    both = np.hstack([x, LEXICAL_WEIGHT * model.embed(texts)])
    return (both / np.maximum(np.linalg.norm(both, axis=1, keepdims=True), 1e-12)).astype(np.float32)


def placed(db: Database, embedder, model: TfidfLsa | None, texts: list[str], message_ids: list[str]
            ) -> tuple[np.ndarray, int]:
    """Statements' vectors as a run clusters them: read with their answers where they need it (`_in_context`, in the
    sentence model's space), then beside their own words. Returns (vectors, texts the sentence model computed)."""
    if embedder is None:
        x, _ = _in_context(model.embed(texts), message_ids, texts, lambda t: (model.embed(t), 0))
        return x, len(texts)
    x, computed = embed_features(db, embedder, texts)
    x, more = _in_context(x, message_ids, texts, lambda t: embed_features(db, embedder, t))
    return _with_words(x, texts, model), computed + more
