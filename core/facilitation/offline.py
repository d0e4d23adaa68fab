"""The offline facilitator: deterministic wording from the guide and fixed phrases (same input, same reply)."""

from __future__ import annotations

from typing import Iterator

from core.facilitation.protocol import Action, TurnContext
from core.facilitation.recap import recap_text
from core.i18n import phrase


class OfflineFacilitator:
    source = "offline"

    def reply(self, ctx: TurnContext) -> str:
        lang, plan = ctx.language, ctx.plan
        if plan.action is Action.PROBE:
            return ctx.steps[plan.step].probe
        if plan.action is Action.CLOSE:
            lead = phrase(lang, "turn_limit") + " " if plan.after == "limit" else ""
            return lead + recap_text(ctx) + "\n\n" + phrase(lang, "goodbye")
        question = ctx.steps[plan.step].question
        if plan.after == "start":
            return welcome(lang, ctx.session_name, len(ctx.steps)) + "\n\n" + question
        lead = phrase(lang, "skip_ack") if plan.after == "skip" else phrase(lang, "thanks_next")
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
