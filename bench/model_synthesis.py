"""Model-mode synthesis at scale: wall time of a full synthesis of N participants (default 1,000 × 5 answers)
against a local fake OpenAI server that takes a fixed time per call (default 1 s), by concurrency, then the re-run
after one more participant.

    python -m bench.model_synthesis [--participants 1000] [--delay 1] [--concurrency 4 8]

The server is tests/fakes/openai_server.py (`--delay`) with plausible synthesis replies (bench/_model_server.py):
extractions quote the answers verbatim, names, a summary citing the table, sentiment labels. The app side is the
real one: core.synthesis.model_mode's ModelSynthesis through the shared openai client (SDK retries off), one circuit
breaker per run, at most HARMONICA_SYNTHESIS_CONCURRENCY calls at once. Printed per concurrency: wall time, model
calls by purpose, the most calls in flight at once (counted by the server), the time the same calls would take one
at a time (calls × delay), and the +1 participant re-run (one extraction: the rest come from the cache).
"""

from __future__ import annotations

import argparse
import os
import time

from bench._setup import (
    TextBank,
    bulk_load,
    load_average,
    make_owner,
    make_session,
    print_footer,
    print_header,
    temp_database,
)
from tests.fakes.fake_openai import FakeOpenAI

SERVER = "bench._model_server"  # run as `python -m bench._model_server` from the repository root


def use_server(fake: FakeOpenAI, workers: int) -> None:
    from core import config, modes

    os.environ.update({"OPENAI_BASE_URL": fake.base_url, "OPENAI_API_KEY": "sk-bench", "HARMONICA_MODEL": "fake-chat",
                       "HARMONICA_LLM_TIMEOUT": "60", "HARMONICA_LLM_RETRIES": "0",
                       "HARMONICA_SYNTHESIS_CONCURRENCY": str(workers)})
    os.environ.pop("HARMONICA_SYNTHESIS_EMBEDDINGS", None)
    modes.close_clients()
    config.settings.cache_clear()


def by_purpose(stats: dict) -> dict[str, int]:
    return {p.removeprefix("synthesis."): v["calls"] for p, v in stats.get("by_purpose", {}).items()}


def run(n: int, workers: int, fake: FakeOpenAI, delay: float) -> dict:
    from core.repos import sessions as srepo
    from core.repos import synthesis as repo
    from core.synthesis.models import synthesis_model
    from core.synthesis.pipeline import synthesize

    use_server(fake, workers)
    bank = TextBank()
    with temp_database() as (db, _):
        owner = make_owner(db)
        session = make_session(db, owner, f"model synthesis {n}")
        bulk_load(db, session, n, 10, bank, finished_share=1.0)
        fake.reset()
        t = time.perf_counter()
        out = synthesize(db, [session.id], model=synthesis_model(db, [session.id], "model"))
        secs = time.perf_counter() - t
        run_row = repo.get_run(db, out.run_id)
        peak = fake.max_in_flight()
        calls = out.stats["model_calls"]
        # one more participant: one extraction, the others from the cache
        bulk_load(db, srepo.get_session(db, session.id), 1, 10, bank, finished_share=1.0)
        fake.reset()
        t = time.perf_counter()
        again = synthesize(db, [session.id], model=synthesis_model(db, [session.id], "model"))
        again_secs = time.perf_counter() - t
        return {
            "n": n, "workers": workers, "seconds": secs, "calls": calls["calls"], "failures": calls["failures"],
            "by_purpose": by_purpose(calls), "client_peak": calls["max_in_flight"], "server_peak": peak,
            "sequential_s": calls["calls"] * delay, "statements": out.stats["statements"],
            "themes": out.stats["themes"], "label": run_row.stats.get("model_label"), "mode": run_row.mode,
            "use": run_row.stats.get("model_use", {}), "timings": run_row.timings,
            "plus1": {"kind": again.kind, "seconds": again_secs, "by_purpose": by_purpose(again.stats["model_calls"]),
                      "label": again.stats.get("model_label")},
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--participants", type=int, default=1000)
    parser.add_argument("--delay", type=float, default=1.0, help="seconds the fake server takes per call")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[4, 8])
    args = parser.parse_args()
    print_header(f"model-mode synthesis, {args.participants:,} participants × 5 answers, "
                 f"fake server {args.delay:g} s per call")
    with FakeOpenAI(delay=args.delay, module=SERVER) as fake:
        for workers in args.concurrency:
            r = run(args.participants, workers, fake, args.delay)
            u = r["use"]
            print(f"-- concurrency {workers}: wall {r['seconds']:.1f} s for {r['calls']:,} calls "
                  f"({r['failures']} failed; one at a time they would take {r['sequential_s']:,.0f} s); "
                  f"calls by purpose {r['by_purpose']}; most in flight: {r['server_peak']} (server), "
                  f"{r['client_peak']} (client)", flush=True)
            print(f"   {r['statements']:,} statements, {r['themes']} themes; run labelled {r['label']!r} "
                  f"(mode {r['mode']}); extraction {u.get('extraction', {}).get('model')} of "
                  f"{u.get('extraction', {}).get('participants')} by the model; naming "
                  f"{u.get('naming', {}).get('model')} of {u.get('naming', {}).get('themes')}; summary "
                  f"{u.get('summary')}; timings {r['timings']}", flush=True)
            p = r["plus1"]
            print(f"   +1 participant: {p['kind']} run, {p['seconds']:.1f} s, calls {p['by_purpose']}, "
                  f"labelled {p['label']!r}; load average now {load_average()}", flush=True)
    print_footer()


if __name__ == "__main__":
    main()
