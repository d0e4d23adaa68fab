"""Offline synthesis against BERTopic (default settings, same embeddings, same texts), speed and peak memory.

    python -m venv --system-site-packages /tmp/btvenv
    /tmp/btvenv/bin/pip install torch==2.13.0 bertopic    # by hand, in a separate venv: NOT in requirements*.txt
    /tmp/btvenv/bin/python -m bench.bertopic_compare                      # 1k, 10k, banking77 NMI/ARI
    /tmp/btvenv/bin/python -m bench.bertopic_compare --sizes 1000         # one size
    /tmp/btvenv/bin/python -m bench.bertopic_compare --embedder tfidf     # the 2026-11-26 way

Both sides use the SAME vectors, from the default offline embedder (`embed.packaged_embedder()`: all-MiniLM-L6-v2
on onnxruntime, `minilm-l6-onnx-int8`), or with `--embedder tfidf` TF-IDF+LSA (HARMONICA_EMBEDDER=tfidf for ours,
`TfidfLsa(200, seed 0)` for BERTopic). Every case runs in its own process, so peak RSS (ru_maxrss: Python and
libraries included) is that case's own:
- `ours-N`: as bench/synthesis_speed.py: N Polis sentences imported as one session, then one full
  `core.synthesis.pipeline.synthesize` as it runs by default (timed: answers → statements → embed (cold cache:
  fresh database) → Ward tree, automatic k → label → quotes → store). Then, untimed, the texts it embedded (the
  statements' feature texts) and the matrix it clustered (read back from its content-hash cache) are written
  to a temp folder.
- `bt-N`: the same statements: the feature texts embedded again with the same embedder, in the same order of
  distinct texts as the pipeline (so the batches, hence the vectors, are identical; the largest difference from
  the pipeline's matrix is printed), then `BERTopic(embedding_model=None).fit_transform(statement texts,
  embeddings=x)` with every other setting left at its default (UMAP 5-d, HDBSCAN min_cluster_size=10,
  CountVectorizer + c-TF-IDF). No sentence-transformers model is ever loaded (embedding_model=None and
  precomputed embeddings; HF_HUB_OFFLINE=1, TRANSFORMERS_OFFLINE=1).
  Ratio = BERTopic (embed + fit_transform) / ours (full synthesize); fit_transform alone is printed too.
- `quality`: banking77 (3,080 texts, 77 labels): the same vectors, our `cluster` (automatic k: the session range
  4..12, and 4..100 as bench/synthesis_quality.py) against BERTopic's topics (outliers -1 counted as one more
  cluster; ours: Other -1 likewise), NMI and ARI.
A small untimed warm-up process runs BERTopic first, so one-off bytecode compilation is not in the figures
(numba's per-process JIT of UMAP/HDBSCAN is, as a user would pay it; a second fit_transform in the same process,
after the ratio, shows the cost without it).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

ROOT = Path(__file__).resolve().parents[1]

DATA = Path("/work/shared/data")
if not DATA.is_dir():
    DATA = ROOT.parent / "shared" / "data"


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _embedder(kind: str):
    """The embedder a default run uses (MiniLM), checked; None for TF-IDF+LSA."""
    if kind == "tfidf":
        return None
    from core.synthesis.embed import packaged_embedder

    emb = packaged_embedder()
    if emb is None:
        raise SystemExit("the default embedder (MiniLM) is not available here: nothing to compare")
    return emb


def embed_texts(kind: str, texts: list[str]):
    """Vectors of `texts` the way the pipeline computes them: MiniLM on the distinct texts in first-seen order
    (as embed_with_cache does), spread back to every row; or TF-IDF+LSA fitted on them (as _full does)."""
    import numpy as np

    if kind == "tfidf":
        from core.synthesis.embed import TfidfLsa

        return TfidfLsa(200, 0).fit_embed(texts), len(texts)
    emb = _embedder(kind)
    distinct = list(dict.fromkeys(texts))
    where = {t: i for i, t in enumerate(distinct)}
    vectors = emb.embed(distinct)
    return vectors[np.fromiter((where[t] for t in texts), dtype=np.int64, count=len(texts))], len(distinct)


def case_ours(n: int, out_dir: str, kind: str) -> dict:
    import numpy as np
    import pandas as pd

    from bench._setup import TextBank, make_owner, temp_database
    from core.importer import ImportSpec, import_responses
    from core.repos import synthesis as repo
    from core.synthesis.pipeline import Params, _features, load_inputs, synthesize
    from core.synthesis.space import embed_features

    bank = TextBank()
    texts = [bank.rng.choice(bank.sentences) for _ in range(n)]
    with temp_database() as (db, _path):
        owner = make_owner(db)
        result = import_responses(db, owner, pd.DataFrame({"text": texts}).to_csv(index=False).encode(),
                                  ImportSpec(f"{n} statements", ["text"]))
        base = peak_mb()
        t = time.perf_counter()
        out = synthesize(db, [result.session_id])
        secs = time.perf_counter() - t
        peak = peak_mb()
        run = repo.get_run(db, out.run_id)
        # untimed: what it embedded and clustered
        inputs = load_inputs(db, [result.session_id], Params(), embedder_name=run.embedder)
        feats = _features(inputs.statements, inputs)
        rows = [i for i, f in enumerate(feats.texts) if f]
        features = [feats.texts[i] for i in rows]
        docs = [inputs.statements["text"].iloc[i] for i in rows]
        if kind == "minilm":
            x, again = embed_features(db, _embedder(kind), features)
            assert again == 0, "the pipeline's vectors were not cached"
            np.save(Path(out_dir) / "x.npy", x)
    Path(out_dir, "texts.json").write_text(json.dumps({"docs": docs, "features": features}))
    return {"case": f"ours {n} rows", "embedder": run.embedder, "statements": out.stats["statements"],
            "clustered": len(features), "distinct": len(set(features)), "embedded": out.embedded,
            "themes": out.stats["themes"], "k": run.stats.get("k"), "other": run.stats.get("other"),
            "seconds": round(secs, 2), "timings": run.timings, "peak_rss_mb": round(peak),
            "rss_before_mb": round(base), "source": bank.source}


def _bertopic(texts: list[str], x):
    from bertopic import BERTopic

    model = BERTopic(embedding_model=None)  # every other setting default
    topics, _ = model.fit_transform(texts, embeddings=x)
    return model, topics


def case_bertopic(in_dir: str, kind: str) -> dict:
    import numpy as np

    data = json.loads(Path(in_dir, "texts.json").read_text())
    docs, features = data["docs"], data["features"]
    t = time.perf_counter()
    import bertopic  # noqa: F401  (imports torch via sentence-transformers); timed apart
    import_s = time.perf_counter() - t
    base = peak_mb()
    t = time.perf_counter()
    x, embedded = embed_texts(kind, features)
    embed_s = time.perf_counter() - t
    diff = None
    if Path(in_dir, "x.npy").exists():
        diff = float(np.abs(np.load(Path(in_dir, "x.npy")) - x).max())
    t = time.perf_counter()
    _model, topics = _bertopic(docs, x)
    fit_s = time.perf_counter() - t
    t = time.perf_counter()
    _bertopic(docs, x)  # again in the same process: numba functions already compiled
    again_s = time.perf_counter() - t
    outliers = sum(1 for tp in topics if tp == -1)
    return {"case": f"bertopic {len(docs)} statements", "statements": len(docs), "embedded": embedded,
            "max_abs_diff_to_ours": diff,
            "topics": len(set(topics) - {-1}), "outlier_share": round(outliers / len(topics), 3),
            "import_s": round(import_s, 2), "embed_s": round(embed_s, 2), "fit_transform_s": round(fit_s, 2),
            "second_fit_transform_s": round(again_s, 2), "seconds": round(embed_s + fit_s, 2),
            "peak_rss_mb": round(peak_mb()), "rss_after_import_mb": round(base)}


def case_quality(kind: str) -> dict:
    import pandas as pd
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

    from core.synthesis.cluster import MAX_K, MIN_K, cluster

    df = pd.read_csv(DATA / "banking77" / "test.csv")
    texts, gold = df["text"].tolist(), df["category"].tolist()
    t = time.perf_counter()
    x, _ = embed_texts(kind, texts)
    embed_s = time.perf_counter() - t
    ours = {}
    for lo, hi in ((MIN_K, MAX_K), (MIN_K, 100)):
        t = time.perf_counter()
        c = cluster(x, seed=0, min_k=lo, max_k=hi)
        ours[f"k in {lo}..{hi}"] = {
            "k": c.k, "other": int((c.labels == -1).sum()),
            "nmi": round(normalized_mutual_info_score(gold, c.labels), 3),
            "ari": round(adjusted_rand_score(gold, c.labels), 3), "cluster_s": round(time.perf_counter() - t, 2)}
    t = time.perf_counter()
    _model, topics = _bertopic(texts, x)
    bt_s = time.perf_counter() - t
    kept = [i for i, tp in enumerate(topics) if tp != -1]
    return {"case": f"banking77 {len(texts)} texts", "embed_s": round(embed_s, 2), "ours": ours,
            "bertopic": {"topics": len(set(topics) - {-1}),
                         "outlier_share": round(1 - len(kept) / len(topics), 3),
                         "nmi": round(normalized_mutual_info_score(gold, topics), 3),
                         "ari": round(adjusted_rand_score(gold, topics), 3),
                         "nmi_without_outliers": round(normalized_mutual_info_score(
                             [gold[i] for i in kept], [topics[i] for i in kept]), 3),
                         "fit_transform_s": round(bt_s, 2)}}


def case_warmup(kind: str) -> dict:
    import pandas as pd

    texts = pd.read_csv(DATA / "banking77" / "test.csv")["text"].tolist()[:400]
    _bertopic(texts, embed_texts(kind, texts)[0])
    return {"case": "warm-up"}


def run_case(kind: str, *args: str) -> dict:
    env = dict(os.environ)
    if kind == "tfidf":
        env["HARMONICA_EMBEDDER"] = "tfidf"
    else:
        env.pop("HARMONICA_EMBEDDER", None)
    proc = subprocess.run([sys.executable, "-m", "bench.bertopic_compare", "--embedder", kind, *args],
                          capture_output=True, text=True, cwd=ROOT, env=env)
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr[-3000:])
    return json.loads(proc.stdout.strip().splitlines()[-1])


def wait_quiet(limit_s: float, below: float) -> None:
    from bench._setup import load_average

    t = time.perf_counter()
    while float(load_average().split()[0]) >= below and time.perf_counter() - t < limit_s:
        time.sleep(10)
    print(f"   load average: {load_average()} (waited {time.perf_counter() - t:.0f} s)", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--case", choices=["ours", "bt", "quality", "warmup"])
    parser.add_argument("--embedder", choices=["minilm", "tfidf"], default="minilm",
                        help="minilm: the default offline embedder on both sides; tfidf: TF-IDF+LSA on both")
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--dir", default="")
    parser.add_argument("--sizes", default="1000,10000")
    parser.add_argument("--no-quality", action="store_true")
    parser.add_argument("--quiet-load", type=float, default=2.5, help="wait (bounded) for a 1-min load below this")
    args = parser.parse_args()
    kind = args.embedder
    if args.case:
        result = {"ours": lambda: case_ours(args.n, args.dir, kind), "bt": lambda: case_bertopic(args.dir, kind),
                  "quality": lambda: case_quality(kind), "warmup": lambda: case_warmup(kind)}[args.case]()
        print(json.dumps(result))
        return
    from importlib.metadata import version

    from bench._setup import load_average, print_header

    print_header(f"offline synthesis vs BERTopic (default settings, same {kind} embeddings)")
    print("   " + "  ".join(f"{p}={version(p)}" for p in ("bertopic", "torch", "umap-learn", "hdbscan", "numba",
                                                        "scikit-learn", "scipy", "numpy", "onnxruntime")))
    run_case(kind, "--case", "warmup")
    wait_quiet(180, args.quiet_load)
    with tempfile.TemporaryDirectory(prefix="harmonica-bt-") as tmp:
        for n in [int(s) for s in args.sizes.split(",") if s]:
            folder = Path(tmp) / str(n)
            folder.mkdir()
            ours = run_case(kind, "--case", "ours", "--n", str(n), "--dir", str(folder))
            print(json.dumps(ours), f"load {load_average()}", flush=True)
            wait_quiet(60, args.quiet_load)
            bt = run_case(kind, "--case", "bt", "--dir", str(folder))
            print(json.dumps(bt), f"load {load_average()}", flush=True)
            secs = ours["seconds"]
            print(f"   {n} rows / {ours['statements']} statements: ours {secs:.1f} s, "
                  f"{ours['peak_rss_mb']} MB peak; BERTopic {bt['seconds']:.1f} s (fit_transform "
                  f"{bt['fit_transform_s']:.1f} s; a second one in the same process "
                  f"{bt['second_fit_transform_s']:.1f} s), {bt['peak_rss_mb']} MB peak; ratio BERTopic/ours: time "
                  f"{bt['seconds'] / secs:.1f}x (fit_transform alone {bt['fit_transform_s'] / secs:.1f}x), "
                  f"peak RSS {bt['peak_rss_mb'] / ours['peak_rss_mb']:.1f}x", flush=True)
            wait_quiet(30, args.quiet_load)
    if not args.no_quality:
        print(json.dumps(run_case(kind, "--case", "quality")), f"load {load_average()}", flush=True)
    print(f"   load average at end: {load_average()}")


if __name__ == "__main__":
    main()
