"""A fake OpenAI-compatible HTTP server for tests (standard library only).

Run: `python tests/fakes/openai_server.py --port 0`. It binds 127.0.0.1, prints
`LISTENING http://127.0.0.1:PORT/v1` once, and serves until killed.

Endpoints: GET /v1/models, POST /v1/chat/completions (JSON or SSE), POST /v1/embeddings.

Control endpoints (tests drive behaviour from outside the process):
- POST /_control/script  {"replies": [...]} appends to one FIFO queue, consumed by
  chat completions and embeddings. A reply is an object combining:
    {"content": "text"}        text reply (streamed in several chunks when streaming)
    {"delay": 1.5}             sleep before answering
    {"status": 500 | 429 | n}  OpenAI-style error body (429 adds `retry-after: 0`; "retry_after": s sets it,
                               on any status);
                               optional "message" sets the error text
    {"malformed": true}        HTTP 200, message content "{not json"
    {"raw": "text"}            HTTP 200, application/json body that is not JSON at all
    {"cut_stream": true}       send part of the reply, then drop the connection
                               ("graceful": end the HTTP body cleanly, still no [DONE])
    {"empty": true}            content ""
    {"no_usage": true}         (streaming) no usage chunk, as servers that ignore stream_options do
    {"endless": true}          (streaming) a reply that runs on: a chunk every "chunk_delay" s (default 0.05)
                               until the request's max_tokens (then finish_reason "length"); with
                               "ignore_max_tokens": true, until the client hangs up (at most 10 minutes)
    {"match": "text"}          for a request whose messages (or embedding inputs) contain "text": such a
                               request takes the first reply it matches, before any reply without a
                               match; other requests skip it. Lets concurrent requests (answered in any
                               order) each get their own reply
- GET /_control/requests   every request so far: method, path, headers (no authorization), body
- GET /_control/stats       {"in_flight": n, "max_in_flight": m}: model requests being answered now, and the
                            most at once since the last reset (to check a client's concurrency bound)
- POST /_control/reset      clear queue, log and stats

`--delay SECONDS` makes every model request (chat, embeddings) without a scripted "delay" take that long,
like a slow real server (bench/model_synthesis.py uses 1 s).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import math
import os
import re
import socket
import struct
import sys
import threading
import time
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

EMBEDDING_DIMS = 64
MODELS = ["fake-chat", "fake-embedding"]
_SECRET_HEADERS = {"authorization", "api-key", "proxy-authorization"}
_MAX_DEPTH = 8  # recursive schemas (a node with child nodes) must still terminate


class _State:
    """Reply queue and request log shared by all handler threads."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.replies: deque[dict[str, Any]] = deque()
        self.requests: list[dict[str, Any]] = []
        self.counter = 0
        self.default_delay = 0.0
        self.in_flight = 0
        self.max_in_flight = 0
        self.epoch = 0   # bumped by a reset: requests still being answered from before it are not counted

    def next_reply(self, text: str = "") -> dict[str, Any] | None:
        """The first queued reply whose "match" is in `text` (the request's text), else the first without one."""
        with self.lock:
            matched = [i for i, r in enumerate(self.replies) if r.get("match") is not None and str(r["match"]) in text]
            free = [i for i, r in enumerate(self.replies) if r.get("match") is None]
            for i in matched[:1] or free[:1]:
                reply = self.replies[i]
                del self.replies[i]
                return reply
            return None

    def enter(self) -> int:
        with self.lock:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            return self.epoch

    def leave(self, epoch: int) -> None:
        with self.lock:
            if epoch == self.epoch:
                self.in_flight -= 1

    def next_id(self) -> int:
        with self.lock:
            self.counter += 1
            return self.counter


STATE = _State()


# ---------------------------------------------------------------- schema instances


def example_from_schema(schema: dict[str, Any], root: dict[str, Any] | None = None, depth: int = 0) -> Any:
    """Return a minimal value valid for a JSON schema as pydantic emits it."""
    root = schema if root is None else root
    if not isinstance(schema, dict) or not schema:
        return "example"
    if "$ref" in schema:
        return example_from_schema(_resolve_ref(schema["$ref"], root), root, depth)
    if "const" in schema:
        return schema["const"]
    if "enum" in schema:
        return schema["enum"][0]
    if "default" in schema:
        return schema["default"]
    for key in ("anyOf", "oneOf"):
        if key in schema:
            options = [s for s in schema[key] if s.get("type") != "null"] or schema[key]
            return example_from_schema(options[0], root, depth)
    if "allOf" in schema:
        merged: dict[str, Any] = {}
        for part in schema["allOf"]:
            part = _resolve_ref(part["$ref"], root) if "$ref" in part else part
            merged = _merge(merged, part)
        return example_from_schema(merged, root, depth)

    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind is None:
        kind = "object" if "properties" in schema else "string"

    if kind == "object":
        props = schema.get("properties", {})
        return {
            name: example_from_schema(props.get(name, {}), root, depth + 1) for name in schema.get("required", [])
        }
    if kind == "array":
        if "prefixItems" in schema:
            return [example_from_schema(s, root, depth + 1) for s in schema["prefixItems"]]
        count = max(schema.get("minItems", 1 if depth < _MAX_DEPTH else 0), 0)
        return [example_from_schema(schema.get("items", {}), root, depth + 1) for _ in range(count)]
    if kind == "string":
        return _example_string(schema)
    if kind in ("integer", "number"):
        return _example_number(schema, integer=kind == "integer")
    if kind == "boolean":
        return False
    return None


def _resolve_ref(ref: str, root: dict[str, Any]) -> dict[str, Any]:
    # pydantic emits local refs only: "#/$defs/Name"
    node: Any = root
    for part in ref.lstrip("#/").split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def _merge(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    out = {**a, **b}
    if "properties" in a or "properties" in b:
        out["properties"] = {**a.get("properties", {}), **b.get("properties", {})}
        out["required"] = list(dict.fromkeys(a.get("required", []) + b.get("required", [])))
    return out


_FORMATS = {
    "date-time": "2024-01-01T00:00:00Z",
    "date": "2024-01-01",
    "time": "00:00:00",
    "uuid": "00000000-0000-4000-8000-000000000000",
    "email": "example@example.com",
    "uri": "https://example.com/",
    "duration": "P1D",
}


def _example_string(schema: dict[str, Any]) -> str:
    value = _FORMATS.get(schema.get("format", ""), "example")
    min_len = schema.get("minLength", 0)
    if len(value) < min_len:
        value = value + "x" * (min_len - len(value))
    if "maxLength" in schema:
        value = value[: schema["maxLength"]]
    return value


def _example_number(schema: dict[str, Any], *, integer: bool) -> int | float:
    if "minimum" in schema:
        value = schema["minimum"]
    elif "exclusiveMinimum" in schema:
        value = schema["exclusiveMinimum"] + (1 if integer else 0.5)
    else:
        value = 0
    if "maximum" in schema and value > schema["maximum"]:
        value = schema["maximum"]
    if "exclusiveMaximum" in schema and value >= schema["exclusiveMaximum"]:
        value = schema["exclusiveMaximum"] - (1 if integer else 0.5)
    return int(math.ceil(value)) if integer else value


# ---------------------------------------------------------------- embeddings and tokens


def _tokens(text: str) -> list[str]:
    return re.findall(r"\w+", text.lower())


def count_tokens(text: str) -> int:
    return len(_tokens(text))


def embed_text(text: str) -> list[float]:
    """Deterministic unit vector: each word adds +-1 to a hashed dimension."""
    vector = [0.0] * EMBEDDING_DIMS
    for token in _tokens(text):
        digest = hashlib.sha256(token.encode()).digest()
        index = int.from_bytes(digest[:4], "big") % EMBEDDING_DIMS
        vector[index] += 1.0 if digest[4] & 1 else -1.0
    norm = math.sqrt(sum(v * v for v in vector))
    if norm == 0:  # empty text still needs a valid unit vector
        return [1.0] + [0.0] * (EMBEDDING_DIMS - 1)
    return [v / norm for v in vector]


def _message_text(messages: list[dict[str, Any]]) -> str:
    parts = []
    for message in messages:
        content = message.get("content")
        if isinstance(content, list):  # content parts: [{"type": "text", "text": ...}]
            content = " ".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
        parts.append(str(content or ""))
    return " ".join(parts)


def _last_user_text(messages: list[dict[str, Any]]) -> str:
    for message in reversed(messages):
        if message.get("role") == "user":
            return _message_text([message])
    return ""


# ---------------------------------------------------------------- HTTP handler


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive and chunked SSE, like the real API
    server_version = "FakeOpenAI/1.0"
    # headers and body go out as separate writes; without this, Nagle plus delayed ACK adds ~40 ms per reply
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - base-class signature
        pass  # quiet: tests read the request log instead

    # ---- plumbing

    def _read_body(self) -> tuple[bytes, Any]:
        length = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            return raw, json.loads(raw) if raw else None
        except ValueError:
            return raw, None

    def _send_json(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        self._send_bytes(status, json.dumps(payload).encode(), headers)

    def _send_bytes(self, status: int, data: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def _send_error(self, status: int, message: str, kind: str, code: str | None = None,
                    retry_after: Any = None) -> None:
        headers = {"retry-after": "0"} if status == 429 else {}
        if retry_after is not None:
            headers["retry-after"] = str(retry_after)
        body = {"error": {"message": message, "type": kind, "param": None, "code": code}}
        self._send_json(status, body, headers)

    def _log(self, body: Any) -> None:
        headers = {k.lower(): v for k, v in self.headers.items() if k.lower() not in _SECRET_HEADERS}
        with STATE.lock:
            STATE.requests.append({"method": self.command, "path": self.path, "headers": headers, "body": body})

    def _drop_connection(self) -> None:
        self.close_connection = True
        try:
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def handle_one_request(self) -> None:
        # a client that gave up (timeout tests) must not print tracebacks
        try:
            super().handle_one_request()
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    # ---- routing

    def do_GET(self) -> None:  # noqa: N802 - http.server naming
        if self.path == "/_control/requests":
            with STATE.lock:
                self._send_json(200, list(STATE.requests))
        elif self.path == "/_control/stats":
            with STATE.lock:
                self._send_json(200, {"in_flight": STATE.in_flight, "max_in_flight": STATE.max_in_flight})
        elif self.path.rstrip("/") == "/v1/models":
            self._log(None)
            data = [{"id": m, "object": "model", "created": 0, "owned_by": "fake"} for m in MODELS]
            self._send_json(200, {"object": "list", "data": data})
        else:
            self._send_error(404, f"Unknown path {self.path}", "invalid_request_error", "not_found")

    def do_POST(self) -> None:  # noqa: N802 - http.server naming
        raw, body = self._read_body()
        if self.path == "/_control/script":
            replies = (body or {}).get("replies") if isinstance(body, dict) else None
            if not isinstance(replies, list) or not all(isinstance(r, dict) for r in replies):
                self._send_error(400, "expected {'replies': [objects]}", "invalid_request_error")
                return
            with STATE.lock:
                STATE.replies.extend(replies)
                queued = len(STATE.replies)
            self._send_json(200, {"queued": queued})
            return
        if self.path == "/_control/reset":
            with STATE.lock:
                STATE.replies.clear()
                STATE.requests.clear()
                # a request a previous test gave up on (a client timeout) may still be sleeping here: it is
                # not one of the next test's requests
                STATE.epoch += 1
                STATE.in_flight = STATE.max_in_flight = 0
            self._send_json(200, {"ok": True})
            return

        self._log(body if body is not None else raw.decode("utf-8", "replace"))
        epoch = STATE.enter()
        try:
            if self.path == "/v1/chat/completions":
                self._chat(body)
            elif self.path == "/v1/embeddings":
                self._embeddings(body)
            else:
                self._send_error(404, f"Unknown path {self.path}", "invalid_request_error", "not_found")
        finally:
            STATE.leave(epoch)

    # ---- scripted behaviour shared by endpoints

    def _apply_script(self, reply: dict[str, Any]) -> bool:
        """Sleep and send scripted errors; return True when the response was sent."""
        delay = reply.get("delay", STATE.default_delay)
        if delay:
            time.sleep(float(delay))
        status = reply.get("status")
        if status and int(status) >= 400:
            status = int(status)
            message = reply.get("message")
            wait = reply.get("retry_after")
            if status == 429:
                self._send_error(429, message or "Rate limit reached (fake).", "requests", "rate_limit_exceeded",
                                 retry_after=wait)
            elif status >= 500:
                self._send_error(status, message or "The server had an error (fake).", "server_error",
                                 retry_after=wait)
            else:
                self._send_error(status, message or f"Scripted error {status} (fake).", "invalid_request_error")
            return True
        if "raw" in reply:
            self._send_bytes(200, str(reply["raw"]).encode())
            return True
        return False

    # ---- chat completions

    def _chat(self, body: Any) -> None:
        if not isinstance(body, dict) or not isinstance(body.get("messages"), list):
            self._send_error(400, "Expected a JSON body with 'messages'.", "invalid_request_error")
            return
        reply = STATE.next_reply(_message_text(body["messages"])) or {}
        if self._apply_script(reply):
            return

        messages = body["messages"]
        content = self._reply_content(reply, body)
        model = str(body.get("model") or MODELS[0])
        usage = {
            "prompt_tokens": count_tokens(_message_text(messages)),
            "completion_tokens": count_tokens(content),
        }
        usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
        completion_id = f"chatcmpl-fake-{STATE.next_id()}"

        if body.get("stream") and reply.get("endless"):
            self._endless(completion_id, model, reply, body.get("max_tokens"))
            return
        if body.get("stream"):
            options = body.get("stream_options") or {}
            self._stream(completion_id, model, content,
                         usage if options.get("include_usage") and not reply.get("no_usage") else None, reply)
            return

        payload = {
            "id": completion_id,
            "object": "chat.completion",
            "created": int(time.time()),
            "model": model,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": content, "refusal": None},
                    "logprobs": None,
                    "finish_reason": "stop",
                }
            ],
            "usage": usage,
        }
        if reply.get("cut_stream"):  # non-streaming: promise a longer body, then hang up
            data = json.dumps(payload).encode()
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data[: len(data) // 2])
            self._drop_connection()
            return
        self._send_json(200, payload)

    def _reply_content(self, reply: dict[str, Any], body: dict[str, Any]) -> str:
        if reply.get("empty"):
            return ""
        if reply.get("malformed"):
            return "{not json"
        if "content" in reply:
            return str(reply["content"])
        fmt = body.get("response_format") or {}
        if isinstance(fmt, dict) and fmt.get("type") == "json_schema":
            schema = (fmt.get("json_schema") or {}).get("schema") or {}
            return json.dumps(example_from_schema(schema))
        if isinstance(fmt, dict) and fmt.get("type") == "json_object":
            return "{}"
        return f"Fake reply to: {_last_user_text(body['messages'])[:40]}"

    def _stream(
        self,
        completion_id: str,
        model: str,
        content: str,
        usage: dict[str, int] | None,
        reply: dict[str, Any],
    ) -> None:
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("cache-control", "no-cache")
        self.send_header("transfer-encoding", "chunked")
        self.end_headers()

        def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
            out: dict[str, Any] = {
                "id": completion_id,
                "object": "chat.completion.chunk",
                "created": int(time.time()),
                "model": model,
                "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
            }
            if usage is not None:
                out["usage"] = None  # the real API sends null usage on every chunk but the last
            return out

        pieces = _split(content)
        events: list[dict[str, Any]] = [chunk({"role": "assistant", "content": ""})]
        events += [chunk({"content": piece}) for piece in pieces]
        events.append(chunk({}, finish="stop"))
        if usage is not None:
            events.append({**chunk({}), "choices": [], "usage": usage})

        if reply.get("cut_stream"):
            # role chunk plus about half the text, then stop without [DONE]
            for event in events[: 1 + max(1, len(pieces) // 2)]:
                self._write_chunk(f"data: {json.dumps(event)}\n\n")
            if reply["cut_stream"] == "graceful":  # body ends cleanly, as through a proxy that gave up
                self.wfile.write(b"0\r\n\r\n")
            self._drop_connection()
            return
        for event in events:
            self._write_chunk(f"data: {json.dumps(event)}\n\n")
        self._write_chunk("data: [DONE]\n\n")
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def _endless(self, completion_id: str, model: str, reply: dict[str, Any], max_tokens: Any) -> None:
        """A base model that never stops: one word per chunk until max_tokens (if honoured) or the client leaves."""
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("transfer-encoding", "chunked")
        self.end_headers()
        cap = None if reply.get("ignore_max_tokens") or not max_tokens else int(max_tokens)
        delay = float(reply.get("chunk_delay", 0.05))
        sent, until = 0, time.monotonic() + 600
        try:
            while time.monotonic() < until and (cap is None or sent < cap):
                event = {"id": completion_id, "object": "chat.completion.chunk", "created": int(time.time()),
                         "model": model, "choices": [{"index": 0, "delta": {"content": "junk "},
                                                      "logprobs": None, "finish_reason": None}]}
                self._write_chunk(f"data: {json.dumps(event)}\n\n")
                sent += 1
                time.sleep(delay)
            done = {"id": completion_id, "object": "chat.completion.chunk", "created": int(time.time()),
                    "model": model, "choices": [{"index": 0, "delta": {}, "logprobs": None, "finish_reason": "length"}]}
            self._write_chunk(f"data: {json.dumps(done)}\n\n")
            self._write_chunk("data: [DONE]\n\n")
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            return      # the client stopped reading: what a deadline does

    def _write_chunk(self, text: str) -> None:
        data = text.encode()
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()

    # ---- embeddings

    def _embeddings(self, body: Any) -> None:
        if not isinstance(body, dict) or "input" not in body:
            self._send_error(400, "Expected a JSON body with 'input'.", "invalid_request_error")
            return
        reply = STATE.next_reply(json.dumps(body["input"], ensure_ascii=False)) or {}
        if self._apply_script(reply):
            return
        inputs = body["input"]
        if isinstance(inputs, str) or (isinstance(inputs, list) and inputs and isinstance(inputs[0], int)):
            inputs = [inputs]
        texts = [x if isinstance(x, str) else " ".join(map(str, x)) for x in inputs]
        as_base64 = body.get("encoding_format") == "base64"
        data = []
        for index, text in enumerate(texts):
            vector: Any = embed_text(text)
            if as_base64:
                vector = base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode()
            data.append({"object": "embedding", "index": index, "embedding": vector})
        tokens = sum(count_tokens(t) for t in texts)
        self._send_json(
            200,
            {
                "object": "list",
                "data": data,
                "model": str(body.get("model") or MODELS[1]),
                "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
            },
        )


def _split(content: str, parts: int = 4) -> list[str]:
    """Split text into a few chunks on word boundaries (at least one chunk when non-empty)."""
    if not content:
        return []
    words = re.findall(r"\S+\s*|\s+", content)
    size = max(1, math.ceil(len(words) / parts))
    return ["".join(words[i : i + size]) for i in range(0, len(words), size)]


def _exit_when_stdin_closes() -> None:
    # the parent test process holds our stdin; if it dies without killing us, EOF ends us
    sys.stdin.read()
    os._exit(0)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--exit-on-stdin-eof", action="store_true", help="stop when the parent closes stdin")
    parser.add_argument("--delay", type=float, default=0.0, help="seconds every model request takes (default 0)")
    args = parser.parse_args(argv)
    STATE.default_delay = max(0.0, args.delay)

    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    if args.exit_on_stdin_eof:
        threading.Thread(target=_exit_when_stdin_closes, daemon=True).start()
    port = server.server_address[1]
    print(f"LISTENING http://127.0.0.1:{port}/v1", flush=True)
    try:
        server.serve_forever(poll_interval=0.1)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
