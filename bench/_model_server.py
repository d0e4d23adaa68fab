"""The fake OpenAI server of tests/fakes with replies a synthesis model would plausibly give, for
bench/model_synthesis.py. Same options (`--port 0 --exit-on-stdin-eof --delay 1`), same wire format; only the
content of unscripted chat replies changes, by what the request asks for:

- extraction ("You extract the distinct claims"): up to 3 sentences of each answer, quoted verbatim;
- naming ("Name the theme shared"): the first words of the theme's first statement (other words on a repair);
- summary ("cross-participant summary"): two sentences citing the first theme as [T1] and [Q1.1] with its counts;
- sentiment ("Judge the sentiment"): every numbered statement, "neutral".

    python -m bench._model_server --port 0 --delay 1
"""

from __future__ import annotations

import json
import re
from typing import Any

from tests.fakes import openai_server

_plain_reply = openai_server.Handler._reply_content


def _user(body: dict[str, Any]) -> str:
    return openai_server._last_user_text(body["messages"])


def _all(body: dict[str, Any]) -> str:
    return openai_server._message_text(body["messages"])


def _claims(body: dict[str, Any]) -> dict:
    claims = []
    for answer in re.findall(r"^Answer: (.*)$", _user(body), flags=re.MULTILINE):
        for sentence in [s for s in re.split(r"(?<=[.!?])\s+", answer) if len(s.split()) >= 3][:3]:
            claims.append({"quote": sentence, "critical_item": None, "point": " ".join(sentence.split()[:5])})
    return {"claims": claims}


def _name(body: dict[str, Any]) -> dict:
    text = _all(body)
    first = re.search(r"Statements in the theme:\n- (.*)", text)
    words = re.findall(r"[^\W\d_]+", first.group(1) if first else "")
    start = 2 if "cannot be used" in _user(body) else 0      # a repair: other words
    label = " ".join(words[start:start + 4]).capitalize() or "Unnamed statements"
    return {"label": label, "description": f"Statements such as: {first.group(1)[:120] if first else ''}"}


def _summary(body: dict[str, Any]) -> dict:
    m = re.search(r"\[T1\] Theme 1: (.*) — (\d+) of (\d+) participants", _user(body))
    if not m:
        return {"summary": "No theme was listed [T1]."}
    label, people, total = m.groups()
    return {"summary": f"The largest theme, {label}, was raised by {people} of {total} participants [T1], for "
                       f"example [Q1.1]. Counts describe this sample only."}


def _sentiment(body: dict[str, Any]) -> dict:
    numbers = [int(n) for n in re.findall(r"^(\d+)\. ", _user(body), flags=re.MULTILINE)]
    return {"labels": [{"n": n, "sentiment": "neutral"} for n in numbers]}


def reply_content(self, reply: dict[str, Any], body: dict[str, Any]) -> str:
    if reply or not isinstance(body.get("response_format"), dict):
        return _plain_reply(self, reply, body)
    text = _all(body)
    for marker, make in (("You extract the distinct claims", _claims), ("Name the theme shared", _name),
                         ("cross-participant summary", _summary), ("Judge the sentiment", _sentiment)):
        if marker in text:
            return json.dumps(make(body))
    return _plain_reply(self, reply, body)


openai_server.Handler._reply_content = reply_content

if __name__ == "__main__":
    openai_server.main()
