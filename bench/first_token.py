"""Time to first streamed token added by the app in model mode (app overhead, excluding the server). Target < 50 ms.

Starts the fake OpenAI server (tests/fakes, a separate process on 127.0.0.1) and a database holding 1,000
participants x 20 messages, then for each turn (interleaved, same server, same reply):
- baseline: the bare openai SDK streaming the same request shape, from `create()` to the first text delta;
- app: `core.conversation.respond(db, token, facilitator, on_text=...)` for a participant whose answer is
  already saved (as the chat page calls it), from the call to the first `on_text` with text.
App overhead = app - baseline: loading the conversation, planning the turn, building the prompt, the
LLMClient wrapper and the call-log plumbing. The server's own time is in both and cancels out; `--delay`
adds a scripted server delay to show that it does.

    python -m bench.first_token [--turns 200] [--delay 0]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time

import openai

from bench._setup import (
    SEED,
    TextBank,
    bulk_load,
    form_answers_for,
    format_summary,
    make_owner,
    make_session,
    ms,
    print_header,
    summary_ms,
    temp_database,
)
from core import config, conversation, modes
from tests.fakes.fake_openai import FakeOpenAI

TARGET_MS = 50.0
REPLY = "Thank you for sharing that. What would you change first, and why does it matter to you?"


def bare_first_token(client: openai.OpenAI, messages: list[dict]) -> float:
    """Seconds from request to first text delta with the bare SDK (the baseline)."""
    started = time.perf_counter()
    stream = client.chat.completions.create(model="fake-chat", messages=messages, stream=True,
                                            stream_options={"include_usage": True})
    first = None
    for chunk in stream:
        if first is None and chunk.choices and chunk.choices[0].delta and chunk.choices[0].delta.content:
            first = time.perf_counter() - started
    stream.close()
    return first if first is not None else float("nan")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=200)
    parser.add_argument("--participants", type=int, default=1000, help="participants already in the database")
    parser.add_argument("--delay", type=float, default=0.0, help="scripted server delay per request (s)")
    parser.add_argument("--warmup", type=int, default=10)
    args = parser.parse_args(argv)

    print_header("first_token: time to first streamed token added by the app (model mode)")
    bank = TextBank(SEED)
    rng = random.Random(SEED)
    with FakeOpenAI() as fake, temp_database("harmonica-bench-first-token-") as (db, path):
        os.environ["OPENAI_BASE_URL"] = fake.base_url
        os.environ["OPENAI_API_KEY"] = "sk-bench-not-a-key"
        os.environ["HARMONICA_MODEL"] = "fake-chat"
        config.settings.cache_clear()
        owner = make_owner(db)
        session = make_session(db, owner, "Bench session", max_turns=200)
        stats = bulk_load(db, session, args.participants, 20, bank)
        print(f"   database: {stats.participants:,} participants / {stats.messages:,} messages; "
              f"fake server at {fake.base_url}; server delay {args.delay:g} s")
        facilitator = modes.facilitator(db)
        bare = openai.OpenAI(api_key="sk-bench-not-a-key", base_url=fake.base_url, max_retries=0)

        app_times: list[float] = []
        bare_times: list[float] = []
        totals: list[float] = []
        token = None
        for turn in range(args.warmup + args.turns):
            if token is None or conversation.load_chat(db, token).finished:
                token = conversation.join(db, session.id, form_answers_for(session, db, rng), ask_first=False).token
            else:
                conversation.record_answer(db, token, bank.chat_message())
            ctx_messages = facilitator.messages(conversation.turn_context(
                conversation.load_chat(db, token), conversation.next_plan(conversation.load_chat(db, token))))
            first: list[float] = []

            def on_text(text: str, started: list[float]) -> None:
                if not first and text:
                    first.append(time.perf_counter() - started[0])

            # interleave baseline and app, in random order, so drift affects both alike
            order = ["bare", "app"] if rng.random() < 0.5 else ["app", "bare"]
            for which in order:
                fake.script({"content": REPLY, "delay": args.delay})
                if which == "bare":
                    b = bare_first_token(bare, ctx_messages)
                else:
                    started = [time.perf_counter()]
                    conversation.respond(db, token, facilitator, on_text=lambda t: on_text(t, started))
                    a, total = first[0], time.perf_counter() - started[0]
            if turn >= args.warmup:
                app_times.append(a)
                bare_times.append(b)
                totals.append(total)
        bare.close()
        overhead = [x - y for x, y in zip(app_times, bare_times)]
        print("   " + format_summary("bare SDK, request -> first delta", bare_times))
        print("   " + format_summary("app respond() -> first on_text", app_times))
        print("   " + format_summary("app respond() total (stream + store)", totals))
        o = summary_ms(overhead)
        print(f"   app overhead (app - bare, paired): mean={statistics.fmean(overhead) * 1000:.1f} ms  "
              f"p50={o['p50']:.1f} ms  p95={o['p95']:.1f} ms  p99={o['p99']:.1f} ms")
        verdict = "PASS" if o["p95"] < TARGET_MS else "OVER TARGET"
        print(f"   target < {TARGET_MS:.0f} ms (p95): {verdict}")
        calls = db.fetchone("SELECT count(*), count(*) FILTER (WHERE outcome = 'ok') FROM llm_calls")
        print(f"   call log rows: {calls[0]} ({calls[1]} ok); median app first token "
              f"{ms(statistics.median(app_times)):.1f} ms vs bare {ms(statistics.median(bare_times)):.1f} ms")
        modes.close_clients()
    return 0


if __name__ == "__main__":
    sys.exit(main())
