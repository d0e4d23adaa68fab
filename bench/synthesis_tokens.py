"""Model mode: tokens sent per full synthesis at 10, 100 and 1,000 participants, against the fake OpenAI server
(tests/fakes), by step. The summary step must not grow with N; extraction grows linearly (one call per
participant) but is cached by transcript hash, so a re-run after +1 participant extracts once.

    python -m bench.synthesis_tokens [--sizes 10 100 1000]

Token counts are the fake server's (words and punctuation of the prompt, like core.text.count_tokens), not a
real tokenizer's; the fake's replies are schema examples, so its "quotes" fail the verbatim check and those
participants are split offline (this measures what is sent, not answer quality).
"""

from __future__ import annotations

import argparse
import time
from collections import defaultdict

from bench._setup import TextBank, bulk_load, make_owner, make_session, temp_database
from core.llm import LLMSettings
from core.llm.client import LLMClient
from core.repos import sessions as srepo
from core.synthesis.model_mode import ModelSynthesis
from core.synthesis.pipeline import synthesize
from tests.fakes.fake_openai import FakeOpenAI


def run(n: int, fake: FakeOpenAI) -> dict:
    records = []
    settings = LLMSettings(api_key="sk-bench", base_url=fake.base_url, model_facilitation="fake-chat",
                           model_generation="fake-chat", model_synthesis="fake-chat", timeout_s=10, max_retries=0)
    bank = TextBank()
    with temp_database() as (db, _), LLMClient(settings, on_call=records.append) as client:
        owner = make_owner(db)
        session = make_session(db, owner, f"tokens {n}")
        bulk_load(db, session, n, 10, bank, finished_share=1.0)

        def model():   # extraction, naming and the summary by the model; sentiment stays the lexicon's
            return ModelSynthesis(db, client, "fake-chat", sentiment=False)

        t = time.perf_counter()
        out = synthesize(db, [session.id], model=model())
        secs = time.perf_counter() - t
        by = defaultdict(int)
        calls = defaultdict(int)
        for r in records:
            by[r.purpose] += r.input_tokens or 0
            calls[r.purpose] += 1
        records.clear()
        bulk_load(db, srepo.get_session(db, session.id), 1, 10, bank, finished_share=1.0)
        synthesize(db, [session.id], allow_incremental=False, model=model())
        again = defaultdict(int)
        for r in records:
            again[r.purpose] += 1
        return {"n": n, "statements": out.stats["statements"], "themes": out.stats["themes"], "seconds": round(secs, 1),
                "tokens": dict(by), "calls": dict(calls), "plus1_calls": dict(again)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 100, 1000])
    args = parser.parse_args()
    with FakeOpenAI() as fake:
        print("| participants | statements | themes | extract tokens (calls) | naming tokens (calls) | "
              "summary tokens | re-run after +1: extract calls | time |")
        print("|---|---|---|---|---|---|---|---|")
        for n in args.sizes:
            r = run(n, fake)
            t, c = r["tokens"], r["calls"]
            print(f"| {n} | {r['statements']:,} | {r['themes']} | {t.get('synthesis.extract', 0):,} "
                  f"({c.get('synthesis.extract', 0)}) | "
                  f"{t.get('synthesis.name', 0):,} ({c.get('synthesis.name', 0)}) | "
                  f"{t.get('synthesis.summary', 0):,} | {r['plus1_calls'].get('synthesis.extract', 0)} | "
                  f"{r['seconds']} s |", flush=True)


if __name__ == "__main__":
    main()
