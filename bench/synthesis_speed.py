"""Synthesis speed and peak memory, offline, end to end (read answers → statements → embed → cluster → label →
quotes → store).

    python -m bench.synthesis_speed             # 1k, 10k statements, +1 participant at 1,000
    python -m bench.synthesis_speed --case 10k  # one case (each case runs in its own process)

Cases (each in a fresh subprocess, so peak RSS is that case's own):
- `1k` / `10k`: an imported session whose N rows are one Polis sentence each (about N statements), then one full
  `core.synthesis.pipeline.synthesize`. Targets for 10k: < 60 s and < 2 GB.
- `plus1`: a session of 1,000 participants x 10 messages (5 answers of 10-60 words each, bench/_setup.bulk_load),
  a full synthesis, then one more finished participant and the synthesis again (an update that embeds only the
  new participant's statements). Target < 2 s. Also times the "is it up to date?" check the results page makes and
  everything else the page computes (view, overview, coverage, every segment table).
Peak memory is the process's maximum resident set size (ru_maxrss), so it includes Python and the libraries.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def case_statements(n: int) -> dict:
    import pandas as pd

    from bench._setup import TextBank, make_owner, temp_database
    from core.importer import ImportSpec, import_responses
    from core.repos import synthesis as repo
    from core.synthesis.pipeline import synthesize

    bank = TextBank()
    texts = [bank.rng.choice(bank.sentences) for _ in range(n)]
    with temp_database() as (db, _path):
        owner = make_owner(db)
        base = peak_mb()
        t = time.perf_counter()
        result = import_responses(db, owner, pd.DataFrame({"text": texts}).to_csv(index=False).encode(),
                                  ImportSpec(f"{n} statements", ["text"]))
        load = time.perf_counter() - t
        t = time.perf_counter()
        out = synthesize(db, [result.session_id])
        secs = time.perf_counter() - t
        run = repo.get_run(db, out.run_id)
        return {"case": f"{n} rows", "statements": out.stats["statements"], "themes": out.stats["themes"],
                "k_reason": run.stats.get("k_reason"), "import_s": round(load, 2), "synthesis_s": round(secs, 2),
                "timings": run.timings, "peak_rss_mb": round(peak_mb()), "rss_before_mb": round(base),
                "source": bank.source}


def case_plus_one(participants: int = 1000, messages: int = 10) -> dict:
    from bench._setup import TextBank, bulk_load, checkpoint, make_owner, make_session, temp_database
    from core.repos import sessions as srepo
    from core.synthesis.pipeline import current_input_hash, synthesize

    bank = TextBank()
    with temp_database() as (db, _path):
        owner = make_owner(db)
        session = make_session(db, owner, "plus one")
        bulk_load(db, session, participants, messages, bank, finished_share=1.0)
        checkpoint(db)
        t = time.perf_counter()
        full = synthesize(db, [session.id])
        full_s = time.perf_counter() - t
        session = srepo.get_session(db, session.id)
        bulk_load(db, session, 1, messages, bank, finished_share=1.0)
        t = time.perf_counter()
        plus = synthesize(db, [session.id])
        plus_s = time.perf_counter() - t
        t = time.perf_counter()
        current_input_hash(db, [session.id])
        check_s = time.perf_counter() - t
        from core import results

        t = time.perf_counter()
        opened = results.open(db, owner, session.id)
        view = opened.synthesis_view()
        opened.overview()
        opened.coverage()
        for key in opened.segment_fields():
            opened.segments(view, key)
        page_s = time.perf_counter() - t
        return {"case": f"+1 participant at {participants}", "statements": full.stats["statements"],
                "full_s": round(full_s, 2), "plus1_kind": plus.kind, "plus1_embedded": plus.embedded,
                "plus1_s": round(plus_s, 2), "up_to_date_check_s": round(check_s, 2),
                "results_page_data_s": round(page_s, 2),
                "peak_rss_mb": round(peak_mb())}


def run_case(name: str) -> dict:
    proc = subprocess.run([sys.executable, "-m", "bench.synthesis_speed", "--case", name],
                          capture_output=True, text=True, cwd=ROOT)
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr[-3000:])
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--case", choices=["1k", "10k", "plus1"])
    args = parser.parse_args()
    if args.case:
        result = {"1k": lambda: case_statements(1000), "10k": lambda: case_statements(10000),
                  "plus1": case_plus_one}[args.case]()
        print(json.dumps(result))
        return
    from bench._setup import machine_info

    info = machine_info()
    print(f"machine: nproc={info['nproc']} cpu={info['cpu']} ram={info['ram']} python={info['python']}")
    for name in ("1k", "10k", "plus1"):
        t = time.perf_counter()
        result = run_case(name)
        print(json.dumps(result), f"(case wall {time.perf_counter() - t:.1f}s)", flush=True)


if __name__ == "__main__":
    main()
