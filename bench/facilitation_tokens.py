"""Prompt tokens per model facilitation turn at turn 2 and turn 20 (bounded context), against the fake server.

One participant talks through a 16-step guide (15 critical items plus the closing step) with the model
facilitator: a thin answer (which earns a probe) then a full answer of 30-60 words at every step, so the
conversation passes 20 participant turns. For each facilitation request it records
- `input_tokens` as the server reported it (the fake server counts words, \\w+), from the call log;
- an estimate of real BPE tokens: characters / 4 of the request's messages;
- the same estimate for an untrimmed prompt (system prompt + every message verbatim), for comparison.
No tokenizer is downloaded: the figures are estimates, fit for comparing turn 2 with turn 20.

    python -m bench.facilitation_tokens [--items 15]
"""

from __future__ import annotations

import argparse
import json
import os
import sys

from bench._setup import SEED, TextBank, make_owner, print_header, temp_database
from core import config, conversation, modes
from core.brief import Brief
from core.facilitation.model import system_prompt
from core.sessions import SessionSettings, create_session, set_status
from tests.fakes.fake_openai import FakeOpenAI

REPLY = "Thank you, that is helpful. Could you tell me a little more about what made it work that way for you?"
TOPICS = ["Onboarding", "Tooling", "Code review", "Planning", "Estimates", "Meetings", "Documentation",
          "Testing", "Releases", "On-call", "Customer feedback", "Team communication", "Workload", "Learning",
          "Career growth"]


def untrimmed_chars(ctx) -> int:
    """Characters of a prompt that sent every message verbatim (what bounding avoids)."""
    messages = [{"role": "system", "content": system_prompt(ctx)}]
    messages += [{"role": "user" if t.role == "participant" else "assistant", "content": t.content}
                 for t in ctx.history]
    return len(json.dumps(messages, ensure_ascii=False))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=15, help="critical items (steps = items + 1)")
    args = parser.parse_args(argv)
    print_header("facilitation_tokens: prompt size per model facilitation turn")
    bank = TextBank(SEED)
    with FakeOpenAI() as fake, temp_database("harmonica-bench-tokens-") as (db, _path):
        os.environ["OPENAI_BASE_URL"] = fake.base_url
        os.environ["OPENAI_API_KEY"] = "sk-bench-not-a-key"
        os.environ["HARMONICA_MODEL"] = "fake-chat"
        config.settings.cache_clear()
        owner = make_owner(db)
        brief = Brief("Engineering survey", "Understand what helps and hinders our engineering teams",
                      TOPICS[: args.items])
        session = create_session(db, owner, brief, settings=SessionSettings(max_turns=200))
        session = set_status(db, owner, session.id, "launched")
        facilitator = modes.facilitator(db)
        token = conversation.join(db, session.id, ask_first=False).token

        rows = []  # (participant turns so far, server input tokens, chars of request, chars untrimmed)
        thin_next = True
        while True:
            chat = conversation.load_chat(db, token)
            if chat.finished:
                break
            if chat.messages and not chat.awaiting_reply:
                text = bank.thin() if thin_next else bank.answer(30, 60)
                conversation.record_answer(db, token, text)
                thin_next = not thin_next
                chat = conversation.load_chat(db, token)
            ctx = conversation.turn_context(chat, conversation.next_plan(chat))
            request_chars = len(json.dumps(facilitator.messages(ctx), ensure_ascii=False))
            fake.script({"content": REPLY})
            conversation.respond(db, token, facilitator)
            turns = sum(1 for m in chat.messages if m.role == "participant")
            tokens = db.fetchone("SELECT input_tokens FROM llm_calls ORDER BY created_at DESC LIMIT 1")[0]
            rows.append((turns, tokens, request_chars, untrimmed_chars(ctx)))

        steps = len(conversation.load_chat(db, token).steps)
        print(f"   guide: {steps} steps; participant turns: {rows[-1][0]}; facilitation requests: {len(rows)}")
        print("   turn  server_tokens(words)  est_tokens(chars/4)  untrimmed_est_tokens")
        for turns, tokens, chars, full in rows:
            if turns in (0, 1, 2, 5, 10, 15, 20, 25, 30) or turns == rows[-1][0]:
                print(f"   {turns:>4}  {tokens:>20}  {chars // 4:>19}  {full // 4:>20}")
        by_turn = {t: (tok, c, f) for t, tok, c, f in rows}
        if 2 in by_turn and 20 in by_turn:
            t2, t20 = by_turn[2], by_turn[20]
            print(f"   turn 2 -> turn 20: server tokens {t2[0]} -> {t20[0]} (x{t20[0] / t2[0]:.2f}); "
                  f"est. {t2[1] // 4} -> {t20[1] // 4} (x{t20[1] / t2[1]:.2f}); "
                  f"untrimmed would be {t20[2] // 4} (x{t20[2] / t2[2]:.2f})")
        late = [c for t, _, c, _ in rows if t >= 20]
        if late:
            print(f"   from turn 20 on: est. tokens min {min(late) // 4}, max {max(late) // 4} (bounded: "
                  "last 6 messages verbatim + a digest of older answers within a fixed budget)")
        modes.close_clients()
    return 0


if __name__ == "__main__":
    sys.exit(main())
