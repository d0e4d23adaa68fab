"""Offline synthesis against BERTopic (default settings, same embeddings, same texts), speed and peak memory.

    pip install torch==2.13.0 bertopic        # by hand, NOT in requirements*.txt, not part of CI
    PYTHONPATH=. python bench/bertopic_compare.py               # 1k, 10k, banking77 NMI/ARI
    PYTHONPATH=. python bench/bertopic_compare.py --sizes 1000   # one size

Every case runs in its own process, so peak RSS (ru_maxrss: Python and libraries included) is that case's own:
- `ours-N`: as bench/synthesis_speed.py: N Polis sentences imported as one session, then one full
  `core.synthesis.pipeline.synthesize` (timed: answers → statements → TF-IDF+LSA → cluster → label →
  quotes → store). The statements it analysed are then (untimed) written to a temp file.
- `bt-N`: the SAME statements, embedded the same way (`TfidfLsa(200, seed 0).fit_embed`, as the pipeline
  does),
  then `BERTopic(embedding_model=None).fit_transform(texts, embeddings=x)` with every other setting left at its
  default (UMAP 5-d, HDBSCAN min_cluster_size=10, CountVectorizer + c-TF-IDF). No sentence-transformers model is
  ever loaded (embedding_model=None and precomputed embeddings; HF_HUB_OFFLINE=1, TRANSFORMERS_OFFLINE=1).
  Ratio = BERTopic (embed + fit_transform) / ours (full synthesize); fit_transform alone is printed too.
- `quality`: banking77 (3,080 texts, 77 labels): the same TF-IDF+LSA vectors, our `cluster` (automatic k, as
  bench/synthesis_quality.py) against BERTopic's topics (outliers -1 counted as one more cluster), NMI and ARI.
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
sys.path.insert(0, str(ROOT))

DATA = Path("/work/shared/data")
if not DATA.is_dir():
    DATA = ROOT.parent / "shared" / "data"


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def case_ours(n: int, texts_out: str) -> dict:
    import pandas as pd

    from bench._setup import TextBank, make_owner, temp_database
    from core.importer import ImportSpec, import_responses
    from core.synthesis.pipeline import Params, load_inputs, synthesize

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
        statements = load_inputs(db, [result.session_id], Params()).statements["text"].tolist()
    Path(texts_out).write_text(json.dumps(statements))
    return {"case": f"ours {n} rows", "statements": out.stats["statements"], "themes": out.stats["themes"],
            "seconds": round(secs, 2), "peak_rss_mb": round(peak), "rss_before_mb": round(base),
            "source": bank.source}


def _bertopic(texts: list[str], x):
    from bertopic import BERTopic

    model = BERTopic(embedding_model=None)  # every other setting default
    topics, _ = model.fit_transform(texts, embeddings=x)
    return model, topics


def case_bertopic(texts_in: str) -> dict:
    from core.synthesis.embed import TfidfLsa

    texts = json.loads(Path(texts_in).read_text())
    t = time.perf_counter()
    import bertopic  # noqa: F401  (imports torch via sentence-transformers); timed apart
    import_s = time.perf_counter() - t
    base = peak_mb()
    t = time.perf_counter()
    x = TfidfLsa(200, 0).fit_embed(texts)
    embed_s = time.perf_counter() - t
    t = time.perf_counter()
    _model, topics = _bertopic(texts, x)
    fit_s = time.perf_counter() - t
    t = time.perf_counter()
    _bertopic(texts, x)  # again in the same process: numba functions already compiled
    again_s = time.perf_counter() - t
    outliers = sum(1 for tp in topics if tp == -1)
    return {"case": f"bertopic {len(texts)} statements", "statements": len(texts),
            "topics": len(set(topics) - {-1}), "outlier_share": round(outliers / len(topics), 3),
            "import_s": round(import_s, 2), "embed_s": round(embed_s, 2), "fit_transform_s": round(fit_s, 2),
            "second_fit_transform_s": round(again_s, 2), "seconds": round(embed_s + fit_s, 2),
            "peak_rss_mb": round(peak_mb()), "rss_after_import_mb": round(base)}


def case_quality() -> dict:
    import pandas as pd
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

    from core.synthesis.cluster import cluster
    from core.synthesis.embed import TfidfLsa

    df = pd.read_csv(DATA / "banking77" / "test.csv")
    texts, gold = df["text"].tolist(), df["category"].tolist()
    x = TfidfLsa(seed=0).fit_embed(texts)
    t = time.perf_counter()
    c = cluster(x, seed=0)
    ours_s = time.perf_counter() - t
    t = time.perf_counter()
    _model, topics = _bertopic(texts, x)
    bt_s = time.perf_counter() - t
    kept = [i for i, tp in enumerate(topics) if tp != -1]
    return {"case": f"banking77 {len(texts)} texts",
            "ours": {"k": c.k, "nmi": round(normalized_mutual_info_score(gold, c.labels), 3),
                     "ari": round(adjusted_rand_score(gold, c.labels), 3), "cluster_s": round(ours_s, 2)},
            "bertopic": {"topics": len(set(topics) - {-1}),
                         "outlier_share": round(1 - len(kept) / len(topics), 3),
                         "nmi": round(normalized_mutual_info_score(gold, topics), 3),
                         "ari": round(adjusted_rand_score(gold, topics), 3),
                         "nmi_without_outliers": round(normalized_mutual_info_score(
                             [gold[i] for i in kept], [topics[i] for i in kept]), 3),
                         "fit_transform_s": round(bt_s, 2)}}


def case_warmup() -> dict:
    import pandas as pd

    from core.synthesis.embed import TfidfLsa

    texts = pd.read_csv(DATA / "banking77" / "test.csv")["text"].tolist()[:400]
    _bertopic(texts, TfidfLsa(seed=0).fit_embed(texts))
    return {"case": "warm-up"}


def run_case(*args: str) -> dict:
    proc = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True, cwd=ROOT,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr[-3000:])
    return json.loads(proc.stdout.strip().splitlines()[-1])


def wait_quiet(limit_s: float) -> None:
    from bench._setup import load_average

    t = time.perf_counter()
    while float(load_average().split()[0]) >= 1.5 and time.perf_counter() - t < limit_s:
        time.sleep(10)
    print(f"   load average: {load_average()} (waited {time.perf_counter() - t:.0f} s)", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--case", choices=["ours", "bt", "quality", "warmup"])
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--texts", default="")
    parser.add_argument("--sizes", default="1000,10000")
    parser.add_argument("--no-quality", action="store_true")
    args = parser.parse_args()
    if args.case:
        result = {"ours": lambda: case_ours(args.n, args.texts), "bt": lambda: case_bertopic(args.texts),
                  "quality": case_quality, "warmup": case_warmup}[args.case]()
        print(json.dumps(result))
        return
    from importlib.metadata import version

    from bench._setup import load_average, print_header

    print_header("offline synthesis vs BERTopic (default settings, same TF-IDF+LSA embeddings)")
    print("   " + "  ".join(f"{p}={version(p)}" for p in ("bertopic", "torch", "umap-learn", "hdbscan",
                                                        "scikit-learn", "numpy")))
    run_case("--case", "warmup")
    wait_quiet(180)
    with tempfile.TemporaryDirectory(prefix="harmonica-bt-") as tmp:
        for n in [int(s) for s in args.sizes.split(",") if s]:
            texts = str(Path(tmp) / f"statements-{n}.json")
            ours = run_case("--case", "ours", "--n", str(n), "--texts", texts)
            print(json.dumps(ours), f"load {load_average()}", flush=True)
            wait_quiet(60)
            bt = run_case("--case", "bt", "--texts", texts)
            print(json.dumps(bt), f"load {load_average()}", flush=True)
            secs = ours["seconds"]
            print(f"   {n} rows / {ours['statements']} statements: ours {secs:.1f} s, "
                  f"{ours['peak_rss_mb']} MB peak; BERTopic {bt['seconds']:.1f} s (fit_transform "
                  f"{bt['fit_transform_s']:.1f} s; a second one in the same process "
                  f"{bt['second_fit_transform_s']:.1f} s), {bt['peak_rss_mb']} MB peak; ratio BERTopic/ours: time "
                  f"{bt['seconds'] / secs:.1f}x (fit_transform alone {bt['fit_transform_s'] / secs:.1f}x), "
                  f"peak RSS {bt['peak_rss_mb'] / ours['peak_rss_mb']:.1f}x", flush=True)
            wait_quiet(30)
    if not args.no_quality:
        print(json.dumps(run_case("--case", "quality")), flush=True)
    print(f"   load average at end: {load_average()}")


if __name__ == "__main__":
    main()
