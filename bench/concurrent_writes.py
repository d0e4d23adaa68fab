"""Concurrent writes: 20 threads each sending 20 turns through `core.conversation.send` into one database.

One process, one Database (as one Streamlit server): every thread plays participants of the same session;
when its participant finishes (the guide has 5 steps) it joins a new one, until it has sent its 20 turns.
Prints the wall time, throughput and per-turn latency under contention, then checks the database: every
turn stored exactly once (no lost or duplicated message), each conversation's seq numbers 1..n without
gaps, every reply following its answer, and participant numbers unique within the session.

    python -m bench.concurrent_writes [--threads 20] [--turns 20] [--base-participants 5000]
"""

from __future__ import annotations

import argparse
import random
import sys
import threading
import time

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
    temp_database,
)
from core import conversation


def worker(db, session, bank: TextBank, rng: random.Random, turns: int, out: dict, barrier: threading.Barrier):
    sent: dict[str, list[str]] = {}      # token -> texts sent, in order
    latencies: list[float] = []
    joins: list[str] = []
    try:
        barrier.wait()
        token = None
        while len(latencies) < turns:
            if token is None:
                token = conversation.join(db, session.id, form_answers_for(session, db, rng)).token
                joins.append(token)
                sent[token] = []
            text = bank.chat_message()
            started = time.perf_counter()
            result = conversation.send(db, token, text)
            latencies.append(time.perf_counter() - started)
            if result.error:
                raise RuntimeError(f"send refused: {result.error}")
            sent[token].append(text)
            if result.message.kind == "recap":
                token = None
        out.update(sent=sent, latencies=latencies, error=None)
    except Exception as exc:  # reported by the main thread
        out.update(sent=sent, latencies=latencies, error=repr(exc))


def check(db, session_id: str, outs: list[dict], base_messages: int) -> list[str]:
    problems: list[str] = []
    expected_tokens = {t: texts for o in outs for t, texts in o["sent"].items()}
    rows = db.fetchall(
        "SELECT p.token, m.seq, m.role, m.content FROM messages m JOIN participants p ON p.id = m.participant_id "
        "WHERE p.token IN (SELECT unnest(?)) ORDER BY p.token, m.seq", [list(expected_tokens)])
    by_token: dict[str, list[tuple]] = {}
    for token, seq, role, content in rows:
        by_token.setdefault(token, []).append((seq, role, content))
    for token, texts in expected_tokens.items():
        msgs = by_token.get(token, [])
        seqs = [m[0] for m in msgs]
        if seqs != list(range(1, len(msgs) + 1)):
            problems.append(f"{token[:8]}: seq not 1..n: {seqs}")
        # welcome question, then (answer, reply) per turn
        if len(msgs) != 1 + 2 * len(texts):
            problems.append(f"{token[:8]}: {len(msgs)} messages for {len(texts)} turns (expected {1 + 2 * len(texts)})")
        roles = [m[1] for m in msgs]
        if roles != ["facilitator"] + ["participant", "facilitator"] * len(texts):
            problems.append(f"{token[:8]}: roles do not alternate")
        stored_answers = [m[2] for m in msgs if m[1] == "participant"]
        if stored_answers != [t.strip() for t in texts]:
            problems.append(f"{token[:8]}: stored answers differ from the ones sent")
    total = db.fetchone("SELECT count(*) FROM messages")[0]
    expected_total = base_messages + sum(1 + 2 * len(t) for t in expected_tokens.values())
    if total != expected_total:
        problems.append(f"messages in the database: {total:,}, expected {expected_total:,}")
    dup_ids = db.fetchone("SELECT count(*) - count(DISTINCT id) FROM messages")[0]
    if dup_ids:
        problems.append(f"{dup_ids} duplicated message ids")
    dup_numbers = db.fetchone(
        "SELECT count(*) - count(DISTINCT number) FROM participants WHERE session_id = ?", [session_id])[0]
    if dup_numbers:
        problems.append(f"{dup_numbers} duplicated participant numbers in the session")
    return problems


def double_submit(db, session, trials: int, seed: int) -> tuple[int, list[str]]:
    """Two threads send an answer for the same participant at once (a double click, two tabs).

    A conversation should then hold one answer and one reply (the other send refused with "please wait"),
    never answer, reply, answer, reply. Returns how many trials broke the alternation, and one example.
    """
    bank, rng = TextBank(seed), random.Random(seed)
    broken, example = 0, []
    for _ in range(trials):
        token = conversation.join(db, session.id, form_answers_for(session, db, rng)).token
        texts = [bank.answer(), bank.answer()]
        seen = conversation.load_chat(db, token).messages[-1].seq  # both submits come from the same view
        barrier = threading.Barrier(2)
        outcome: list = [None, None]

        def send(i: int) -> None:
            barrier.wait()
            try:
                outcome[i] = conversation.send(db, token, texts[i], seen_seq=seen).error or "stored"
            except Exception as exc:  # noqa: BLE001 - reported, not raised
                outcome[i] = repr(exc)

        pair = [threading.Thread(target=send, args=(i,)) for i in range(2)]
        for t in pair:
            t.start()
        for t in pair:
            t.join()
        rows = db.fetchall("SELECT m.role, m.kind, m.step FROM messages m JOIN participants p "
                           "ON p.id = m.participant_id WHERE p.token = ? ORDER BY m.seq", [token])
        roles = [r[0] for r in rows]
        if any(a == b for a, b in zip(roles, roles[1:])) or roles.count("participant") > 1:
            broken += 1
            if not example:
                example = [f"{r}/{k}/step {st}" for r, k, st in rows] + [f"sends: {outcome}"]
    return broken, example


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=20)
    parser.add_argument("--turns", type=int, default=20, help="turns sent by each thread")
    parser.add_argument("--double-submit", type=int, default=40,
                        help="trials of two simultaneous sends for the same participant (0 skips)")
    parser.add_argument("--base-participants", type=int, default=5000,
                        help="participants already in the database (x 20 messages, over 4 sessions)")
    args = parser.parse_args(argv)

    print_header(f"concurrent_writes: {args.threads} threads x {args.turns} turns into one database")
    bank = TextBank(SEED)
    with temp_database("harmonica-bench-concurrent-") as (db, path):
        per = max(args.base_participants // 4, 1) if args.base_participants else 0
        built = build_database(db, [(per, 20)] * 4 if per else [(0, 20)], bank)
        print(f"   base: {built.participants:,} participants / {built.messages:,} messages "
              f"(built in {built.seconds:.1f} s)")
        db = reopen(path)
        session = built.sessions[0]
        outs = [dict() for _ in range(args.threads)]
        barrier = threading.Barrier(args.threads + 1)
        threads = [
            threading.Thread(target=worker, name=f"bench-{i}",
                             args=(db, session, TextBank(SEED + 100 + i), random.Random(SEED + 200 + i),
                                   args.turns, outs[i], barrier))
            for i in range(args.threads)
        ]
        for t in threads:
            t.start()
        barrier.wait()
        started = time.perf_counter()
        for t in threads:
            t.join()
        wall = time.perf_counter() - started

        errors = [o["error"] for o in outs if o.get("error")]
        latencies = [x for o in outs for x in o.get("latencies", [])]
        participants = sum(len(o.get("sent", {})) for o in outs)
        turns = len(latencies)
        print(f"   {turns} turns ({participants} participants joined) in {wall:.2f} s wall: "
              f"{turns / wall:.0f} turns/s, {ms(wall / max(turns, 1)):.1f} ms per turn on average")
        print("   " + format_summary("send latency under contention", latencies))
        for e in errors:
            print(f"   THREAD ERROR: {e}")
        problems = check(db, session.id, outs, built.messages)
        stored = db.fetchone("SELECT count(*) FROM messages")[0] - built.messages
        print(f"   messages added: {stored:,} (expected {participants} welcomes + 2 x {turns} turns = "
              f"{participants + 2 * turns:,})")
        if problems:
            print(f"   CHECK FAILED ({len(problems)} problems):")
            for p in problems[:20]:
                print(f"     - {p}")
        else:
            print("   check: OK (no lost or duplicated message, seq 1..n per conversation, unique numbers)")
        if args.double_submit:
            broken, example = double_submit(db, session, args.double_submit, SEED + 999)
            print(f"-- double submit: {args.double_submit} trials of 2 simultaneous sends for one participant")
            if broken:
                print(f"   RACE: {broken}/{args.double_submit} conversations got two answers and/or two replies in "
                      "a row (the 'wait for the reply' check runs outside the write transaction); e.g.:")
                print("     " + " | ".join(example))
            else:
                print("   OK: every conversation still alternates answer / reply")
        print_footer()
    return 1 if errors or problems else 0


if __name__ == "__main__":
    sys.exit(main())
