"""Request bodies of the v1 write endpoints, checked with pydantic: a bad body is a 422 that names the field."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from core.api.http import invalid

# The hosted Harmonica's pre-session question types, and ours.
QUESTION_TYPES = {"Short field": "short_text", "Email": "email", "Options": "single_choice"}


class Body(BaseModel):
    # Fields a client sends that we do not know are refused by name rather than dropped without a word.
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Question(Body):
    text: str = Field(min_length=1, max_length=300)
    type: Literal["Short field", "Email", "Options"] = "Short field"
    required: bool = False
    options: list[str] = Field(default_factory=list, max_length=50)


class NewSession(Body):
    topic: str = Field(min_length=1)         # lengths are the brief's own rules (core/brief.py), checked there
    goal: str = Field(min_length=1)
    critical: str | None = None
    context: str | None = None
    template_id: str | None = Field(default=None, max_length=100)
    prompt: str | None = None   # v1's custom facilitation prompt: named so its refusal can say why
    questions: list[Question] | None = Field(default=None, max_length=30)
    results_visibility: Literal["public", "participants", "host"] | None = None


class SessionChanges(Body):
    topic: str | None = Field(default=None, min_length=1)
    goal: str | None = Field(default=None, min_length=1)
    critical: str | None = None
    context: str | None = None
    questions: list[Question] | None = Field(default=None, max_length=30)
    results_visibility: Literal["public", "participants", "host"] | None = None
    prompt: str | None = None


class Response(Body):
    content: str = Field(min_length=1, max_length=10000)


class ChatTurn(Body):
    content: str = Field(min_length=1, max_length=10000)
    participant_id: str = Field(min_length=1, max_length=200)
    participant_name: str | None = Field(default=None, max_length=200)
    # the `seq` of the last message the client showed (returned by every chat call): a repeated request for the
    # same turn is refused instead of stored twice (issue 14: double submit by what was seen, not by timing)
    seen_seq: int | None = Field(default=None, ge=0)


class Answer(Body):
    question_id: str = Field(min_length=1, max_length=100)
    answer: Any = None


class ChatStart(Body):
    participant_id: str = Field(min_length=1, max_length=200)
    participant_name: str | None = Field(default=None, max_length=200)
    answers: list[Answer] = Field(default_factory=list, max_length=100)


def parse(model: type[Body], body: dict[str, Any]) -> Body:
    """`body` as `model`, or a 422 listing each problem as "field: what is wrong"."""
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        problems = []
        for error in exc.errors(include_url=False):
            where = ".".join(str(part) for part in error["loc"]) or "body"
            problems.append(f"{where}: {error['msg']}")
        raise invalid("; ".join(problems[:10])) from None
