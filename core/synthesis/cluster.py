"""Deterministic clustering with an automatic, bounded, explainable number of themes.

k is chosen among a small grid between `min_k` and min(`max_k`, sqrt(n)) by the silhouette score (cosine,
on a fixed-seed sample of at most 2,000 statements); every candidate's score is returned so the choice can be
shown. KMeans with a fixed seed (MiniBatchKMeans above 6,000 statements) makes the result a function of the
input and the seed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from sklearn.cluster import KMeans, MiniBatchKMeans
from sklearn.metrics import silhouette_score

MIN_K = 2
MAX_K = 40
SILHOUETTE_SAMPLE = 2000
MINIBATCH_ABOVE = 6000


@dataclass
class Clustering:
    labels: np.ndarray
    centroids: np.ndarray
    k: int
    scores: dict[int, float] = field(default_factory=dict)   # k -> silhouette
    reason: str = ""


def candidate_ks(n: int, min_k: int = MIN_K, max_k: int = MAX_K) -> list[int]:
    upper = max(min_k, min(max_k, int(math.sqrt(n)), n - 1))
    if upper - min_k <= 12:
        return list(range(min_k, upper + 1))
    grid = np.unique(np.round(np.geomspace(min_k, upper, 12)).astype(int))
    return [int(k) for k in grid]


def _fit(x: np.ndarray, k: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    if len(x) > MINIBATCH_ABOVE:
        model = MiniBatchKMeans(n_clusters=k, random_state=seed, n_init=3, batch_size=2048, max_iter=100)
    else:
        model = KMeans(n_clusters=k, random_state=seed, n_init=2, max_iter=200)
    labels = model.fit_predict(x)
    return labels, model.cluster_centers_


def cluster(x: np.ndarray, seed: int = 0, k: int | None = None, min_k: int = MIN_K,
            max_k: int = MAX_K) -> Clustering:
    n = len(x)
    if n == 0:
        return Clustering(np.zeros(0, dtype=int), np.zeros((0, x.shape[1] if x.ndim == 2 else 1)), 0, {},
                          "no statements")
    if n < 2 * min_k + 2 or (k is not None and k <= 1):
        return Clustering(np.zeros(n, dtype=int), x.mean(axis=0, keepdims=True), 1, {},
                          f"{n} statements: too few to separate themes")
    if k is not None:
        k = min(k, n - 1)
        labels, centers = _fit(x, k, seed)
        return Clustering(labels, centers, k, {}, f"k={k} fixed by the caller")
    rng = np.random.default_rng(seed)
    sample = rng.choice(n, size=min(n, SILHOUETTE_SAMPLE), replace=False) if n > SILHOUETTE_SAMPLE else None
    best: tuple[float, int, np.ndarray, np.ndarray] | None = None
    scores: dict[int, float] = {}
    for cand in candidate_ks(n, min_k, max_k):
        labels, centers = _fit(x, cand, seed)
        if len(np.unique(labels)) < 2:
            continue
        xs, ls = (x[sample], labels[sample]) if sample is not None else (x, labels)
        if len(np.unique(ls)) < 2:
            continue
        score = float(silhouette_score(xs, ls, metric="cosine"))
        scores[cand] = round(score, 4)
        if best is None or score > best[0] + 1e-9:
            best = (score, cand, labels, centers)
    if best is None:
        return Clustering(np.zeros(n, dtype=int), x.mean(axis=0, keepdims=True), 1, scores,
                          "no split separated the statements")
    score, chosen, labels, centers = best
    reason = (f"k={chosen} had the best silhouette ({score:.3f}) among k in {sorted(scores)} "
              f"(bounded by sqrt(n)={int(math.sqrt(n))} and {max_k})")
    return Clustering(labels, centers, chosen, scores, reason)
