"""The participant-facing recap of what they said, step by step."""

from __future__ import annotations

from core.facilitation.protocol import TurnContext
from core.i18n import phrase

RECAP_ANSWER_CHARS = 240


def recap_text(ctx: TurnContext) -> str:
    """"Thank you…" and one line per step the participant answered or skipped; said plainly when they stopped
    before the last step (never "that was the last question")."""
    last = len(ctx.steps) - 1
    early = not any(t.role == "participant" and t.step == last for t in ctx.history)
    lines = [phrase(ctx.language, "recap_intro_early" if early else "recap_intro")]
    for index, step in enumerate(ctx.steps):
        said = [t.content for t in ctx.history if t.role == "participant" and t.step == index and t.kind == "answer"]
        skipped = any(t.kind == "skip" and t.step == index for t in ctx.history)
        if not said and not skipped:
            continue
        answer = " ".join(_sentence(a) for a in said) if said else phrase(ctx.language, "recap_skipped")
        if len(answer) > RECAP_ANSWER_CHARS:
            answer = answer[: RECAP_ANSWER_CHARS - 1].rstrip() + "…"
        # A step without a critical item is named by its question, which ends in "?" already.
        lines.append(f"• {step.critical_item}: {answer}" if step.critical_item else f"• {step.question} {answer}")
    return "\n".join(lines)


def _sentence(text: str) -> str:
    """An answer ending as a sentence, so the next one (a probe's answer) does not run on from it."""
    text = text.strip()
    return text if not text or text[-1] in ".!?…" else text + "."
