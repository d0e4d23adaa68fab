"""Model mode under a hung model and under a rate limit: `python -m bench.model_load [--participants 200]`.

Against the fake OpenAI server (tests/fakes, a separate process on 127.0.0.1), through the real chat path
(`conversation.join`, `conversation.send(..., facilitator)` then `conversation.respond` as the chat page calls it):

1. **Hung model.** Every request hangs (the server waits 60 s). `--hung-turns` participants answer one after
   another; for each, the wait from the answer to a stored reply (the offline facilitator's, once the model gave
   nothing within HARMONICA_LLM_FIRST_TOKEN). The endpoint's breaker (core/llm/gate.py) opens after 5 failures:
   later turns fall back at once.
2. **Rate limit.** `--participants` participants answer at the same moment (one thread each), the server takes
   `--delay` s per reply and the app allows HARMONICA_LLM_RPM=60 calls a minute: how many turns the model served,
   how many waited for a slot, how many the offline facilitator answered, and a check that every participant has
   exactly their answer and one reply stored (nothing lost, nothing doubled).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import threading
import time

from bench._setup import form_answers_for, machine_info, make_owner, make_session, temp_database
from core import config, conversation, modes
from core.llm.gate import forget_gates, gate_states
from tests.fakes.fake_openai import FakeOpenAI

ANSWER = "The release process was the main drag this sprint: two days of waiting on reviews and a flaky deploy."


def configure(fake: FakeOpenAI, **env: str) -> None:
    os.environ.update({"OPENAI_BASE_URL": fake.base_url, "OPENAI_API_KEY": "sk-bench-not-a-key",
                       "HARMONICA_MODEL": "fake-chat", "HARMONICA_OFFLINE": "0", **env})
    config.settings.cache_clear()
    forget_gates()


def answer_and_reply(db, session, facilitator) -> tuple[float, str]:
    """(seconds from the answer to a stored reply, source of the reply) for a new participant's first answer."""
    p = conversation.join(db, session.id, form_answers_for(session, db, random.Random(0)))
    started = time.perf_counter()
    conversation.send(db, p.token, ANSWER, facilitator)
    chat = conversation.load_chat(db, p.token)
    if chat.awaiting_reply:
        conversation.respond(db, p.token, facilitator)
        chat = conversation.load_chat(db, p.token)
    return time.perf_counter() - started, chat.messages[-1].source


def hung(fake: FakeOpenAI, turns: int) -> None:
    configure(fake, HARMONICA_LLM_FIRST_TOKEN="3", HARMONICA_LLM_RETRIES="1")
    fake.script(*[{"delay": 60, "content": "never in time"}] * (turns * 3))
    with temp_database("harmonica-bench-hung-") as (db, _path):
        session = make_session(db, make_owner(db), "Hung model", max_turns=50)
        facilitator = modes.facilitator(db)
        waits, sources = [], []
        for _ in range(turns):
            wait, source = answer_and_reply(db, session, facilitator)
            waits.append(wait)
            sources.append(source)
        waits_sorted = sorted(waits)
        p95 = waits_sorted[min(len(waits) - 1, int(0.95 * len(waits)))]
        print(f"\n## Hung model: {turns} turns one after another, HARMONICA_LLM_FIRST_TOKEN=3, retries 1")
        print(f"   wait per turn (s): {', '.join(f'{w:.1f}' for w in waits)}")
        print(f"   p50 {statistics.median(waits):.1f} s, p95 {p95:.1f} s, max {max(waits):.1f} s; replies by: "
              f"{sources.count('offline')} offline, {sources.count('model')} model")
        print(f"   endpoint gate afterwards: {gate_states().get(fake.base_url)}")


def rate_limited(fake: FakeOpenAI, participants: int, delay: float) -> None:
    configure(fake, HARMONICA_LLM_RPM="60", HARMONICA_LLM_CONCURRENCY="8", HARMONICA_LLM_FIRST_TOKEN="10",
              HARMONICA_LLM_RETRIES="1")
    fake.script(*[{"delay": delay, "content": "Thanks. What slowed you down most?"}] * (participants * 2))
    with temp_database("harmonica-bench-rpm-") as (db, _path):
        session = make_session(db, make_owner(db), "Rate limited", max_turns=50)
        facilitator = modes.facilitator(db)
        results: list[tuple[float, str]] = []
        errors: list[str] = []
        start = threading.Barrier(participants)

        def one() -> None:
            try:
                start.wait()
                results.append(answer_and_reply(db, session, facilitator))
            except Exception as exc:        # counted and shown: a lost turn is what this bench looks for
                errors.append(f"{type(exc).__name__}: {exc}")

        began = time.perf_counter()
        threads = [threading.Thread(target=one) for _ in range(participants)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - began
        stored = db.fetchall(
            "SELECT p.id, count(*) FILTER (WHERE m.role = 'participant'), count(*) FILTER (WHERE m.role = "
            "'facilitator' AND m.seq > 1) FROM participants p JOIN messages m ON m.participant_id = p.id "
            "WHERE p.session_id = ? GROUP BY p.id", [session.id])
        whole = sum(1 for _pid, answers, replies in stored if answers == 1 and replies == 1)
        waits = sorted(w for w, _ in results)
        by_model = sum(1 for _, s in results if s == "model")
        print(f"\n## {participants} participants at once, server {delay:g} s per reply, app limit 60 calls/min, "
              f"8 at once, a turn waits at most 10 s for a slot")
        print(f"   wall {wall:.1f} s; replies by the model {by_model}, by the offline facilitator "
              f"{len(results) - by_model}; errors {len(errors)} {errors[:3]}")
        print(f"   wait per turn: p50 {statistics.median(waits):.1f} s, "
              f"p95 {waits[int(0.95 * (len(waits) - 1))]:.1f} s,"
              f" max {waits[-1]:.1f} s; server requests {len(fake.requests('/v1/chat/completions'))}, "
              f"most at once {fake.max_in_flight()}")
        print(f"   stored: {len(stored)} participants, {whole} with exactly their answer and one reply "
              f"(lost or doubled: {len(stored) - whole + participants - len(stored)})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hung-turns", type=int, default=10)
    parser.add_argument("--participants", type=int, default=200)
    parser.add_argument("--delay", type=float, default=1.0)
    args = parser.parse_args()
    print(machine_info(), "load", open("/proc/loadavg").read().split()[:3])
    with FakeOpenAI() as fake:          # each part its own server: hung requests go on sleeping on this one
        hung(fake, args.hung_turns)
    with FakeOpenAI() as fake:
        rate_limited(fake, args.participants, args.delay)
    print("load", open("/proc/loadavg").read().split()[:3])


if __name__ == "__main__":
    main()
