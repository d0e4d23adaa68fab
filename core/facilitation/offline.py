"""The offline facilitator: deterministic wording from the guide and fixed phrases (same input, same reply)."""

from __future__ import annotations

from typing import Iterator

from core.facilitation.protocol import Action, TurnContext
from core.facilitation.recap import recap_text
from core.i18n import phrase, phrase_list
from core.text import word_count


class OfflineFacilitator:
    source = "offline"
    retries = 0            # deterministic: a retry would fail the same way
    retry_delay_s = 0.0

    def reply(self, ctx: TurnContext) -> str:
        lang, plan = ctx.language, ctx.plan
        if plan.action is Action.PROBE:
            return _picked_up(ctx) + ctx.steps[plan.step].probe
        if plan.action is Action.CLOSE:
            lead = phrase(lang, "turn_limit") + " " if plan.after == "limit" else ""
            return lead + recap_text(ctx) + "\n\n" + phrase(lang, "goodbye")
        question = ctx.steps[plan.step].question
        if plan.after == "start":
            return welcome(lang, ctx.session_name, len(ctx.steps)) + "\n\n" + question
        lead = phrase(lang, "skip_ack") if plan.after == "skip" else acknowledgement(lang, plan.step)
        return f"{lead} {question}"

    def stream(self, ctx: TurnContext) -> Iterator[str]:
        # Offline text is ready at once; yielding it word by word keeps one code path in the page.
        text = self.reply(ctx)
        for i, word in enumerate(text.split(" ")):
            yield word if i == 0 else " " + word


def welcome(lang: str, session_name: str, n_questions: int) -> str:
    """The opening line before the first question ("I will ask you 1 question" / "5 questions")."""
    questions = phrase(lang, "questions_one" if n_questions == 1 else "questions_many", n=n_questions)
    return phrase(lang, "welcome", name=session_name, questions=questions)


def acknowledgement(lang: str, step: int) -> str:
    """What the facilitator says before the question of `step`: varied along the conversation, never the same
    "Thank you." before every question."""
    acks = phrase_list(lang, "thanks_next")
    return acks[(step - 1) % len(acks)]


PICKUP_MAX_WORDS = 8


def _picked_up(ctx: TurnContext) -> str:
    """A probe follows a short answer: it starts from the participant's own words ("You mentioned “good
    teamwork”. ", "You said “…”. "), when the answer is short enough to quote whole."""
    said = next((t.content for t in reversed(ctx.history) if t.role == "participant" and t.kind == "answer"), "")
    words = " ".join(said.split()).strip().rstrip(".!?…,;:")
    if not words or word_count(words) > PICKUP_MAX_WORDS or any(q in words for q in "“”«»\""):
        return ""
    pickups = phrase_list(ctx.language, "probe_pickup")     # varied along the conversation, like the thanks
    return pickups[ctx.plan.step % len(pickups)].format(words=words) + " "
