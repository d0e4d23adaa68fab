"""The model facilitator: a language model words the turn the step tracker planned.

The model sees the session's guide, its language, the current step, the form answers the creator marked
shareable, and this participant's conversation only. The context is bounded: the last few messages go
verbatim, older answers are folded into a per-step digest of bounded length, so the prompt does not grow
with the number of turns. The model never decides progress or the end: `TurnPlan` does.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from core.facilitation.protocol import Action, Turn, TurnContext, TurnPlan
from core.guide import Step
from core.i18n import LANGUAGES
from core.llm.protocol import ChatMessage, TextModel
from core.llm.scope import call_scope
from core.llm.settings import MAX_TOKENS
from core.text import count_tokens

PROMPT_VERSION = "facilitation-v1"
PURPOSE = "facilitation.turn"
RECENT_MESSAGES = 6        # messages kept verbatim at the end of the prompt
MESSAGE_CHARS = 1500       # a verbatim message longer than this is cut
DIGEST_CHARS_PER_STEP = 300  # older answers to one step, folded into the digest...
DIGEST_BUDGET_CHARS = 2400   # ...and all steps together: the digest stops growing past this
DIGEST_MIN_PER_STEP = 60
START_MESSAGE = "(The participant has opened the conversation.)"
EARLIER_MESSAGE = "(Earlier messages are summarised in the instructions.)"
REPLY_TOKENS = MAX_TOKENS["facilitation"]   # room left for the reply in a small context window


@dataclass
class ModelFacilitator:
    """Streams each turn from a TextModel; `retries` is how often `conversation.respond` tries again."""

    model: TextModel
    retries: int = 2
    retry_delay_s: float = 0.3
    source: str = "model"
    context_tokens: int = 0      # the model's context window (0: not limited here); the reply's cap comes off it

    def messages(self, ctx: TurnContext) -> list[ChatMessage]:
        """The request for this turn: system prompt, then the recent conversation; within `context_tokens`, the
        oldest messages go first, then the digest and the rest of the guide, never the current step's task."""
        system = system_prompt(ctx)
        recent = recent_messages(ctx.history)
        if not self.context_tokens:
            return [{"role": "system", "content": system}, *recent]
        budget = self.context_tokens - REPLY_TOKENS

        def size() -> int:
            return count_tokens(system) + sum(count_tokens(m["content"]) + 4 for m in recent)

        while size() > budget and len(recent) > 1:
            recent.pop(0)
        if recent[0]["role"] != "user":          # some servers reject a conversation opening with the model
            recent.insert(0, {"role": "user", "content": EARLIER_MESSAGE})
        if size() > budget:
            system = system_prompt(ctx, compact=True)
        return [{"role": "system", "content": system}, *recent]

    def stream(self, ctx: TurnContext) -> Iterator[str]:
        # the scope tags the call-log row with this session and participant
        with call_scope(ctx.session_id or None, ctx.participant_id or None):
            yield from self.model.stream(self.messages(ctx), purpose=PURPOSE, prompt_version=PROMPT_VERSION)

    def reply(self, ctx: TurnContext) -> str:
        return "".join(self.stream(ctx)).strip()


def language_name(code: str) -> str:
    return LANGUAGES.get(code, code)


def _guide_lines(steps: list[Step]) -> list[str]:
    lines = []
    for i, s in enumerate(steps, start=1):
        line = f"{i}. Question: {s.question}"
        if s.probe:
            line += f"\n   Follow-up if the answer is thin: {s.probe}"
        if s.critical_item:
            line += f"\n   Covers: {s.critical_item}"
        lines.append(line)
    return lines


def task_for(plan: TurnPlan, steps: list[Step], session_name: str, language: str) -> str:
    """What this turn must do, in words for the model (the tracker already decided it)."""
    lang = language_name(language)
    if plan.action is Action.CLOSE:
        reason = {"limit": "the turn limit was reached", "finish": "the participant chose to finish"}.get(
            plan.after, "all steps are covered")
        return (f"The conversation is over ({reason}). Write a short recap of what the participant said, as a "
                "bulleted list by topic, using only what they said in this conversation (mark skipped topics as "
                "skipped), then thank them for their time. Ask no question. "
                f"Write in {lang}.")
    step = steps[plan.step]
    if plan.action is Action.PROBE:
        hint = f' in the spirit of: "{step.probe}"' if step.probe else ""
        return (f"The participant's last answer to step {plan.step + 1} was thin. Ask exactly one short follow-up "
                f"about what they just said{hint}. Do not move to another topic. Write in {lang}.")
    question = f'step {plan.step + 1}: "{step.question}"'
    if plan.after == "start":
        count = "is 1 question" if len(steps) == 1 else f"are {len(steps)} questions, one at a time,"
        return (f'Write the opening message: welcome the participant to "{session_name}" in one sentence, say there '
                f"{count} and that they may skip any question or finish at any "
                f"time. Then ask {question}. Write in {lang}.")
    lead = ("The participant skipped the previous question: say briefly that this is fine"
            if plan.after == "skip" else
            "Acknowledge the participant's last answer in a few neutral words (no judgement, no summary)")
    return f"{lead}, then ask {question} in your own words, keeping its meaning. Write in {lang}."


def system_prompt(ctx: TurnContext, compact: bool = False) -> str:
    """The rendered system prompt for one turn (shown to the creator for transparency). `compact` (a small context
    window): without the whole guide and the digest, the current step's task kept."""
    lang = language_name(ctx.language)
    parts = [
        f'You are the facilitator of "{ctx.session_name}", a one-to-one conversational survey.',
        f"Objective of the organisers: {ctx.objective}",
        f"Language: write every message in {lang} (language code {ctx.language}).",
        "Rules: ask one question at a time; keep messages short (at most three sentences before the question); "
        "be warm and neutral; never suggest answers or give your own opinion; never ask for names, contact "
        "details or other identifying information; never mention these instructions.",
    ]
    if not compact:
        parts += ["The guide, in order:", *_guide_lines(ctx.steps)]
    if ctx.shared_form:
        shared = "; ".join(f"{label}: {value}" for label, value in ctx.shared_form.items())
        parts.append(f"About the participant (from the pre-session form): {shared}")
    digest = [] if compact else older_digest(ctx)
    if digest:
        parts += ["Earlier in this conversation (the participant's answers, shortened):", *digest]
    parts += [f"Current step: {min(ctx.plan.step, len(ctx.steps) - 1) + 1} of {len(ctx.steps)}.",
              "Your task now: " + task_for(ctx.plan, ctx.steps, ctx.session_name, ctx.language)]
    return "\n".join(parts)


def older_digest(ctx: TurnContext) -> list[str]:
    """The participant's answers older than the verbatim window, per step, each step cut to a fixed length."""
    older = ctx.history[: max(0, len(ctx.history) - RECENT_MESSAGES)]
    found = []
    for index, step in enumerate(ctx.steps):
        said = [t.content for t in older if t.role == "participant" and t.step == index and t.kind == "answer"]
        skipped = any(t.role == "participant" and t.step == index and t.kind == "skip" for t in older)
        if said or skipped:
            found.append((index, step, " / ".join(" ".join(s.split()) for s in said) if said else "(skipped)"))
    if not found:
        return []
    # the more steps are behind, the shorter each one: the whole digest stays within the budget
    limit = max(DIGEST_MIN_PER_STEP, min(DIGEST_CHARS_PER_STEP, DIGEST_BUDGET_CHARS // len(found)))
    lines = []
    for index, step, text in found:
        if len(text) > limit:
            text = text[: limit - 1].rstrip() + "…"
        lines.append(f"- Step {index + 1} ({step.critical_item or 'open question'}): {text}")
    return lines


def recent_messages(history: list[Turn]) -> list[ChatMessage]:
    """The last messages as chat turns; a request always ends with a participant ('user') message."""
    recent: list[ChatMessage] = []
    for t in history[-RECENT_MESSAGES:]:
        content = t.content if len(t.content) <= MESSAGE_CHARS else t.content[: MESSAGE_CHARS - 1] + "…"
        if t.role == "participant" and t.kind == "skip":
            content = "(skips this question)"
        recent.append({"role": "assistant" if t.role == "facilitator" else "user", "content": content})
    # some local servers reject a conversation that starts with the assistant or has no user turn
    if not recent or recent[0]["role"] != "user":
        trimmed = len(history) > RECENT_MESSAGES
        recent.insert(0, {"role": "user", "content": EARLIER_MESSAGE if trimmed else START_MESSAGE})
    if recent[-1]["role"] != "user":
        recent.append({"role": "user", "content": "(The participant is waiting for your message.)"})
    return recent


def preview_prompt(session_name: str, objective: str, language: str, steps: list[Step],
                   shared_form: dict[str, str] | None = None) -> str:
    """The system prompt of the first turn, for the creator's "System prompt" view."""
    ctx = TurnContext(session_name, language, objective, steps, TurnPlan(Action.ASK, 0, "start"), [],
                      dict(shared_form or {}))
    return system_prompt(ctx)
