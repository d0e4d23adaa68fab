"""Demo data: a creator account, a launched session from a template and simulated finished participants."""

from __future__ import annotations

import json
import random
from dataclasses import dataclass

from core import conversation
from core.accounts import register, reset_password
from core.brief import Brief
from core.config import DEMO_DIR
from core.db import Database
from core.repos import users as urepo
from core.sessions import SessionSettings, create_session, set_status
from core.templates import get_template

DEMO_USERNAME = "demo"
DEMO_TEMPLATE = "retrospective"


@dataclass(frozen=True)
class DemoResult:
    username: str
    password: str
    session_id: str
    participants: int


def seed_demo(db: Database, participants: int = 30, seed: int = 7) -> DemoResult:
    """Create (or reuse) the demo account, a new demo session, and `participants` finished conversations.

    The demo account's password is set anew on every run and returned, since only its hash is stored.
    """
    rng = random.Random(seed)
    if urepo.get_by_username(db, DEMO_USERNAME) is None:
        register(db, DEMO_USERNAME, "demo@example.org", "Demo Creator", "placeholder-pw", "placeholder-pw")
    password = reset_password(db, DEMO_USERNAME, temporary=False)  # printed for signing in, not handed over
    owner = urepo.get_by_username(db, DEMO_USERNAME)

    template = get_template(DEMO_TEMPLATE)
    brief = Brief(f"Demo: {template.name}", template.brief.objective, template.brief.critical_items,
                  template.brief.context)
    session = create_session(db, owner, brief, template_key=template.key, settings=SessionSettings())
    set_status(db, owner, session.id, "launched")

    bank = json.loads((DEMO_DIR / f"{DEMO_TEMPLATE}_answers.json").read_text(encoding="utf-8"))
    for _ in range(participants):
        simulate_participant(db, session.id, bank, rng)
    if participants:
        # The automatic refresh is a timer of the running app; this process exits before it would fire,
        # so the demo's results are synthesised here, once, for a populated results page from the start.
        from core.synthesis.pipeline import synthesize

        synthesize(db, [session.id], trigger="seed-demo")
    return DemoResult(DEMO_USERNAME, password, session.id, participants)


def simulate_participant(db: Database, session_id: str, bank: dict, rng: random.Random) -> str:
    """Run one scripted participant through the real conversation engine; returns its token."""
    answers = {key: rng.choice(values) for key, values in bank["form"].items()}
    p = conversation.join(db, session_id, answers)
    while True:
        chat = conversation.load_chat(db, p.token)
        if chat.finished:
            return p.token
        step_bank = bank["steps"][min(chat.participant.step, len(bank["steps"]) - 1)]
        last = chat.messages[-1]
        if last.kind == "probe":
            text = rng.choice(step_bank["probe_answers"])
        else:
            roll = rng.random()
            text = (rng.choice(step_bank["thin_answers"]) if roll < 0.15
                    else "I don't know" if roll < 0.2 else rng.choice(step_bank["answers"]))
        conversation.send(db, p.token, text)
