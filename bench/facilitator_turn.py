"""Offline facilitator turn, server side (save message + compute reply + save reply), p50/p99 at 100k messages.

Builds a database of ~100k messages (5,000 participants x 20 messages over 4 sessions), then times N turns of
`core.conversation.send(db, token, text)` by fresh participants who joined through `core.conversation.join`.
Each send records the participant's message, computes the offline reply and stores it. Target: p99 < 100 ms.

    python -m bench.facilitator_turn [--turns 500] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import random
import sys
import time
from collections import Counter, defaultdict

from bench._setup import (
    SEED,
    TextBank,
    build_database,
    form_answers_for,
    format_summary,
    ms,
    print_footer,
    print_header,
    reopen,
    summary_ms,
    temp_database,
)
from core import conversation

TARGET_P99_MS = 100.0


def run_turns(db, sessions, bank: TextBank, turns: int, rng: random.Random):
    """Send `turns` messages, joining a new participant whenever the current one has finished."""
    send_times: list[float] = []
    send_cpu: list[float] = []
    join_times: list[float] = []
    by_kind: dict[str, list[float]] = defaultdict(list)
    participants = 0
    token = None
    while len(send_times) < turns:
        if token is None:
            session = sessions[participants % len(sessions)]
            answers = form_answers_for(session, db, rng)
            started = time.perf_counter()
            p = conversation.join(db, session.id, answers)
            join_times.append(time.perf_counter() - started)
            token, participants = p.token, participants + 1
        text = bank.chat_message()
        started, cpu_started = time.perf_counter(), time.process_time()
        result = conversation.send(db, token, text)
        elapsed = time.perf_counter() - started
        send_cpu.append(time.process_time() - cpu_started)
        if result.error:
            raise RuntimeError(f"send refused: {result.error}")
        send_times.append(elapsed)
        by_kind[result.message.kind].append(elapsed)
        if result.message.kind == "recap":
            token = None
    return send_times, send_cpu, join_times, by_kind, participants


def profile_turns(db, sessions, bank, turns, rng, top: int = 30) -> str:
    profiler = cProfile.Profile()
    profiler.enable()
    run_turns(db, sessions, bank, turns, rng)
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out).strip_dirs().sort_stats("cumulative")
    stats.print_stats(top)
    out.write("\n-- by internal time --\n")
    stats.sort_stats("tottime").print_stats(15)
    return out.getvalue()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=500)
    parser.add_argument("--participants", type=int, default=5000, help="participants already in the database")
    parser.add_argument("--messages", type=int, default=20, help="messages per existing participant")
    parser.add_argument("--sessions", type=int, default=4)
    parser.add_argument("--warmup", type=int, default=20, help="turns sent (and not counted) before timing")
    parser.add_argument("--profile", action="store_true", help="also run the turns under cProfile")
    args = parser.parse_args(argv)

    print_header("facilitator_turn: conversation.send at ~100k messages")
    bank = TextBank(SEED)
    rng = random.Random(SEED + 1)
    per_session = [args.participants // args.sessions] * args.sessions
    per_session[0] += args.participants - sum(per_session)
    with temp_database("harmonica-bench-turn-") as (db, path):
        built = build_database(db, [(n, args.messages) for n in per_session], bank)
        print(f"   built {built.participants:,} participants / {built.messages:,} messages in "
              f"{len(built.sessions)} sessions in {built.seconds:.1f} s (text: {bank.source}); "
              f"file {path.stat().st_size / 1e6:.0f} MB")
        db = reopen(path)

        first_join = time.perf_counter()
        run_turns(db, built.sessions, bank, 1, rng)
        first_turn = time.perf_counter() - first_join
        run_turns(db, built.sessions, bank, args.warmup, rng)

        sends, cpu, joins, by_kind, participants = run_turns(db, built.sessions, bank, args.turns, rng)
        total = db.fetchone("SELECT count(*) FROM messages")[0]
        print(f"   first join + turn after opening the file: {ms(first_turn):.1f} ms; "
              f"{args.warmup} warm-up turns not counted")
        print(f"   {len(sends)} timed turns by {participants} fresh participants; messages now: {total:,}")
        print("   " + format_summary("send (turn)", sends))
        print("   " + format_summary("send, process CPU time", cpu)
              + "  <- less sensitive to other load; excludes waits such as fsync")
        print("   " + format_summary("join (participant + first question)", joins))
        for kind, values in sorted(by_kind.items()):
            print("   " + format_summary(f"  reply kind={kind}", values))
        kinds = Counter({k: len(v) for k, v in by_kind.items()})
        print(f"   replies: {dict(kinds)}")
        p99 = summary_ms(sends)["p99"]
        verdict = "PASS" if p99 < TARGET_P99_MS else "OVER TARGET"
        print(f"   target p99 < {TARGET_P99_MS:.0f} ms: {verdict} (p99 = {p99:.1f} ms)")

        if args.profile or p99 >= TARGET_P99_MS:
            print("\n== cProfile of 200 further turns")
            print(profile_turns(db, built.sessions, bank, 200, rng))
        print_footer()
    return 0


if __name__ == "__main__":
    sys.exit(main())
