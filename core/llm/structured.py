"""Parsing model replies into pydantic models, and the repair prompt when that fails."""

from __future__ import annotations

import json
import re
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from core.llm.errors import LLMOutputError

M = TypeVar("M", bound=BaseModel)

_FENCE = re.compile(r"```[a-zA-Z]*\s*\n(.*?)\n\s*```", re.DOTALL)
_THINKING = re.compile(r"<(think|thinking|reasoning)>.*?</\1>\s*", re.DOTALL | re.IGNORECASE)
_MAX_DETAIL = 600


class BadOutput(LLMOutputError):
    """A reply that failed to parse; carries what the repair request needs."""

    def __init__(self, message: str, *, output: str, detail: str) -> None:
        super().__init__(message)
        self.output = output
        self.detail = detail


def schema_name(schema: type[BaseModel]) -> str:
    """The model's name as the API accepts it: [a-zA-Z0-9_-]{1,64}."""
    # generic models have names like Page[Theme]
    return re.sub(r"[^a-zA-Z0-9_-]", "_", schema.__name__)[:64] or "Output"


def parse_into(schema: type[M], text: str) -> M:
    """Validate a JSON reply against `schema`, raising BadOutput with readable errors."""
    candidate = json_part(text)
    try:
        return schema.model_validate_json(candidate)
    except ValidationError as exc:
        detail = describe(exc)
        raise BadOutput(
            f"The language model's reply did not match the expected format: {detail}", output=text, detail=detail
        ) from None


def json_part(text: str) -> str:
    """The JSON of a reply as local models write it: reasoning in <think>…</think> first, the object in a ```
    fence, or a sentence before and after the object."""
    text = _THINKING.sub("", text).strip()
    if (fenced := _FENCE.search(text)) is not None:
        return fenced.group(1).strip()
    start, end = text.find("{"), text.rfind("}")
    if 0 < start < end and not text[:start].lstrip().startswith(("[", '"')):
        return text[start:end + 1]
    return text


def without_thinking(text: str) -> str:
    """A reply with any <think>…</think> block removed (reasoning models put their notes there)."""
    return _THINKING.sub("", text).strip()


def describe(exc: ValidationError) -> str:
    """Validation errors as one line: `field.path: message; ...`."""
    parts = []
    for error in exc.errors(include_url=False)[:8]:
        where = ".".join(str(p) for p in error["loc"]) or "(whole reply)"
        parts.append(f"{where}: {error['msg']}")
    return "; ".join(parts)[:_MAX_DETAIL]


def repair_prompt(detail: str) -> str:
    """The user message asking the model to fix its previous reply."""
    return (
        "Your previous reply could not be used because it does not match the required JSON schema.\n"
        f"Validation errors: {detail}\n"
        "Reply again with only the corrected JSON object, and no other text."
    )


def schema_instruction(schema: type[BaseModel]) -> str:
    """A system message asking for the schema in words, for servers without `response_format`."""
    return (
        "Reply with only a JSON object that matches this JSON schema, with no other text and no code fence:\n"
        + json.dumps(schema.model_json_schema(), separators=(",", ":"))
    )
