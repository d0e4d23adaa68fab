"""LLMClient: the one place that talks to an OpenAI-compatible endpoint."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack
from types import TracebackType
from typing import Any, TypeVar

import openai
from openai.types.chat import ChatCompletion
from pydantic import BaseModel

from core.llm.errors import (
    LLMAuthError,
    LLMConnectionError,
    LLMError,
    LLMOutputError,
    LLMRateLimited,
    LLMRequestError,
    LLMServerError,
    LLMTimeout,
    redact,
)
from core.llm.gate import Gate, gate_for
from core.llm.protocol import CallRecord, ChatMessage, OnCall
from core.llm.scope import current_scope
from core.llm.settings import LLMSettings
from core.llm.structured import BadOutput, parse_into, repair_prompt, schema_instruction, schema_name, without_thinking
from core.text import count_tokens

log = logging.getLogger(__name__)

M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")

RETRY_AFTER_MAX_S = 30.0      # a server asking for a longer pause gets an error instead: nobody waits that long
_sleep = time.sleep           # tests record the pauses instead of waiting

# local servers (Ollama, llama.cpp, vLLM) ignore the key, but the SDK insists on one
PLACEHOLDER_KEY = "not-needed"
PING_PROMPT = "Reply with the single word: pong"
_MAX_DETAIL = 600  # characters of error text kept in a CallRecord


class LLMClient:
    """Chat, streaming, structured output and embeddings over the official openai client."""

    def __init__(self, settings: LLMSettings, on_call: OnCall | None = None) -> None:
        if not settings.configured:
            raise LLMError("No language model is configured: set an API key or a base URL.")
        self.settings = settings
        self._on_call = on_call
        self._host = settings.endpoint_host
        # set once the endpoint answered `response_format: json_schema` with an error (llama.cpp's server: HTTP
        # 500) and then gave valid JSON asked in words: its structured calls ask in words from then on
        self._schema_in_words = False
        self._ask_stream_usage = True    # False once the server refused `stream_options` (see _open_stream)
        self._client = openai.OpenAI(
            api_key=settings.api_key or PLACEHOLDER_KEY,
            # explicit, so OPENAI_BASE_URL in the environment cannot override the settings
            base_url=settings.endpoint_url,
            timeout=settings.timeout_s,
            # the SDK never retries: every HTTP attempt is ours (_chat), so each gets a call-log row and a
            # rate limit's Retry-After is honoured; streams are not retried at all (someone is waiting)
            max_retries=0,
        )

    @property
    def _gate(self) -> Gate:
        """The endpoint's gate, shared with every other client of it in the process."""
        return gate_for(self.settings.endpoint_url, self.settings.concurrency, self.settings.per_minute)

    def close(self) -> None:
        """Release pooled connections."""
        self._client.close()

    def __enter__(self) -> LLMClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # ------------------------------------------------------------------ public calls

    def complete(
        self,
        messages: Sequence[ChatMessage],
        *,
        purpose: str,
        prompt_version: str,
        model: str | None = None,
        temperature: float | None = None,
    ) -> str:
        """Return the model's full text reply."""
        params: dict[str, Any] = {} if temperature is None else {"temperature": temperature}
        try:
            return self._chat(
                messages,
                purpose=purpose,
                prompt_version=prompt_version,
                model=model or self.settings.model_for(purpose),
                parse=without_thinking,
                params=params,
            )
        except BadOutput as bad:
            raise LLMOutputError(str(bad)) from None

    def stream(
        self,
        messages: Sequence[ChatMessage],
        *,
        purpose: str,
        prompt_version: str,
        model: str | None = None,
    ) -> Iterator[str]:
        """Yield text deltas; the request starts on first iteration and is recorded when it ends."""
        model = model or self.settings.model_for(purpose)
        started = time.perf_counter()
        usage: tuple[int | None, int | None] = (None, None)
        got_text = finished = False
        chunks = 0
        response = None

        def record(outcome: str, error: str | None = None) -> None:
            if usage == (None, None) and outcome == "ok":
                # a server that ignores stream_options.include_usage: counted here, and marked as counted
                self._record(purpose, model, prompt_version, started,
                             (sum(count_tokens(m["content"]) for m in messages), count_tokens("".join(written))),
                             outcome, error, estimated=True)
            else:
                self._record(purpose, model, prompt_version, started, usage, outcome, error)

        cap = self.settings.max_tokens_for(purpose)
        deadline = started + self.settings.stream_deadline_s
        cut_at_cap = False
        shown = _HideThinking()
        written: list[str] = []
        slot = ExitStack()
        try:
            try:
                # someone waits on a stream: silence is capped at first_token_s (the read timeout between chunks),
                # the SDK does not retry behind our back (the caller decides), the reply is capped in tokens and
                # in time (stream_deadline_s)
                # a participant waits: queue for a slot no longer than for a first word, then let the
                # offline facilitator answer
                slot.enter_context(self._gate.slot(self.settings.first_token_s, self._host))
                response = self._open_stream(
                    lambda refused: record(refused.outcome, str(refused)),   # the refused attempt has its own row
                    model=model, messages=_wire(messages), stream=True, max_tokens=cap)
                for chunk in response:
                    chunks += 1
                    if chunk.usage is not None:
                        usage = (chunk.usage.prompt_tokens, chunk.usage.completion_tokens)
                    for choice in chunk.choices[:1]:
                        # finish_reason is how we tell a complete stream from one cut short:
                        # a cleanly closed connection looks like a normal end to the SDK
                        if choice.finish_reason is not None:
                            finished = True
                            cut_at_cap = choice.finish_reason == "length"
                        if choice.delta is not None and choice.delta.content:
                            written.append(choice.delta.content)
                            for piece in shown.feed(choice.delta.content):
                                got_text = True
                                yield piece
                    if time.perf_counter() > deadline:
                        raise LLMTimeout(f"The language model at {self._host} was still writing after "
                                         f"{self.settings.stream_deadline_s:g} s; the reply was cut there.")
            except openai.APIConnectionError as exc:
                if isinstance(exc, openai.APITimeoutError):
                    raise LLMTimeout(f"The language model at {self._host} sent nothing for "
                                     f"{min(self.settings.timeout_s, self.settings.first_token_s):g} s.") from None
                if response is None:
                    raise self._translate(exc) from None
                raise self._cut_short() from None
            except (openai.OpenAIError, ValueError) as exc:
                raise self._translate(exc) from None
            for piece in shown.flush():
                got_text = True
                yield piece
            if not finished and chunks == 0:
                # an answer that is not an event stream at all (a proxy's error page, plain JSON garbage)
                raise LLMOutputError(f"The language model at {self._host} sent a response that could not be read.")
            if not finished:
                raise self._cut_short()
            if not got_text:
                raise LLMOutputError("The language model sent no usable reply: the reply was empty.")
            if cut_at_cap:   # a reply that needed more than its purpose's cap is not a reply to show
                raise LLMOutputError(f"The language model's reply ran past {cap} tokens and was cut.")
        except LLMError as err:
            self._gate.outcome(err)
            record(err.outcome, str(err))
            raise
        except GeneratorExit:
            # the caller stopped reading (e.g. a Streamlit rerun): still one record
            record("cancelled")
            raise
        finally:
            if response is not None:
                response.close()
            slot.close()
        self._gate.outcome(None)
        record("ok")

    def _open_stream(self, on_refused: Callable[[LLMError], None], **request: Any) -> Any:
        """Start a streamed completion, asking for the usage figures unless this server refused to be asked."""
        chat = self._client.with_options(
            timeout=min(self.settings.timeout_s, self.settings.first_token_s), max_retries=0).chat.completions
        if not self._ask_stream_usage:
            return chat.create(**request)
        try:
            return chat.create(**request, stream_options={"include_usage": True})
        except (openai.BadRequestError, openai.UnprocessableEntityError) as exc:
            # some compatible servers refuse the `stream_options` field itself (400/422): ask once more without
            # it (the app then counts the tokens), and remember when that worked
            on_refused(self._translate(exc))
            response = chat.create(**request)
            self._ask_stream_usage = False
            return response

    def structured(
        self,
        messages: Sequence[ChatMessage],
        schema: type[M],
        *,
        purpose: str,
        prompt_version: str,
        model: str | None = None,
    ) -> M:
        """Return the reply parsed into `schema`, after at most one repair request."""
        model = model or self.settings.model_for(purpose)
        params = {
            "response_format": {
                "type": "json_schema",
                "json_schema": {
                    "name": schema_name(schema),
                    "schema": schema.model_json_schema(),
                    # not strict: pydantic schemas (defaults, optional fields) often break strict mode
                    "strict": False,
                },
            }
        }

        def parse(text: str) -> M:
            return parse_into(schema, text)

        try:
            if not self._schema_in_words:
                try:
                    # one try only: a server that does not support response_format fails it every time
                    return self._chat(messages, purpose=purpose, prompt_version=prompt_version, model=model,
                                      parse=parse, params=params, retries=0)
                except (LLMRequestError, LLMServerError):
                    # some compatible servers refuse `response_format` (400/422) or fail on it (llama.cpp: 500):
                    # ask for the schema in words instead, validated the same way; a refusal for another
                    # reason fails again below
                    fallback = True
                else:
                    fallback = False
            messages = [{"role": "system", "content": schema_instruction(schema)}, *messages]
            params = {}
            result = self._chat(messages, purpose=purpose, prompt_version=prompt_version, model=model, parse=parse,
                                params=params)
            if not self._schema_in_words and fallback:
                log.info("%s does not take response_format json_schema: asking in words from now on", self._host)
                self._schema_in_words = True
            return result
        except BadOutput as first:
            repair = [
                *messages,
                {"role": "assistant", "content": first.output or "(empty reply)"},
                {"role": "user", "content": repair_prompt(first.detail)},
            ]
            try:
                return self._chat(
                    repair,
                    purpose=purpose,
                    prompt_version=prompt_version,
                    model=model,
                    parse=parse,
                    params=params,
                    attempt=2,
                )
            except BadOutput as second:
                raise LLMOutputError(str(second)) from None

    def embed(self, texts: Sequence[str], *, purpose: str, model: str | None = None) -> list[list[float]]:
        """One vector per text, in order (no request, and no record, for an empty list)."""
        texts = list(texts)
        if not texts:
            return []
        model = model or self.settings.model_embedding
        started = time.perf_counter()
        try:
            try:
                # "float": some local servers do not support the SDK's default base64 encoding
                response = self._client.embeddings.create(input=texts, model=model, encoding_format="float")
                vectors = [item.embedding for item in sorted(response.data, key=lambda item: item.index)]
            except (openai.OpenAIError, ValueError, AttributeError) as exc:
                raise self._translate(exc) from None
            if len(vectors) != len(texts):
                raise LLMOutputError(
                    f"The embedding model returned {len(vectors)} vectors for {len(texts)} texts."
                )
        except LLMError as err:
            self._record(purpose, model, None, started, (None, None), err.outcome, str(err))
            raise
        tokens = response.usage.prompt_tokens if response.usage else None
        self._record(purpose, model, None, started, (tokens, None), "ok")
        return vectors

    def ping(self) -> str:
        """Make one tiny call and describe the result, for a "test connection" button."""
        model = self.settings.model_facilitation
        started = time.perf_counter()
        reply = self.complete(
            [{"role": "user", "content": PING_PROMPT}], purpose="ping", prompt_version="ping-1", model=model
        )
        ms = round((time.perf_counter() - started) * 1000)
        snippet = " ".join(reply.split())[:40]
        return f"Connected to {self._host}: model {model} replied \u201c{snippet}\u201d in {ms} ms."

    # ------------------------------------------------------------------ internals

    def _chat(
        self,
        messages: Sequence[ChatMessage],
        *,
        purpose: str,
        prompt_version: str,
        model: str,
        parse: Callable[[str], T],
        params: dict[str, Any],
        attempt: int = 1,
        retries: int | None = None,
    ) -> T:
        """A non-streaming request, retried on a rate limit, a server error or a lost connection (at most
        `retries` times, default the settings'), one CallRecord per HTTP attempt; `parse` turns the text into
        the result. A timeout is not retried: a model that hung once mostly hangs again."""
        retries = self.settings.max_retries if retries is None else retries
        for left in range(retries, -1, -1):
            try:
                return self._chat_once(messages, purpose=purpose, prompt_version=prompt_version, model=model,
                                       parse=parse, params=params, attempt=attempt)
            except (LLMRateLimited, LLMServerError, LLMConnectionError) as err:    # not LLMTimeout: see above
                wait = err.retry_after
                if not left or (wait is not None and wait > RETRY_AFTER_MAX_S):
                    raise
                _sleep(wait if wait is not None else min(0.5 * 2 ** (retries - left), 4.0))
        raise AssertionError("unreachable")

    def _chat_once(
        self,
        messages: Sequence[ChatMessage],
        *,
        purpose: str,
        prompt_version: str,
        model: str,
        parse: Callable[[str], T],
        params: dict[str, Any],
        attempt: int = 1,
    ) -> T:
        """One non-streaming request, one CallRecord."""
        started = time.perf_counter()
        usage: tuple[int | None, int | None] = (None, None)
        try:
            try:
                with self._gate.slot(self.settings.queue_s, self._host):
                    response = self._client.chat.completions.create(
                        model=model, messages=_wire(messages), max_tokens=self.settings.max_tokens_for(purpose),
                        **params)
            except (openai.OpenAIError, ValueError) as exc:
                err = self._translate(exc)
                self._gate.outcome(err)
                raise err from None
            self._gate.outcome(None)
            if not isinstance(response, ChatCompletion) or not response.choices:
                raise LLMOutputError(f"The language model at {self._host} sent a response that could not be read.")
            if response.usage is not None:
                usage = (response.usage.prompt_tokens, response.usage.completion_tokens)
            message = response.choices[0].message
            text = message.content or ""
            if not text.strip():
                if message.refusal:
                    detail = f"the model declined to answer: {redact(message.refusal, self.settings.api_key)}"
                else:
                    detail = "the reply was empty"
                raise BadOutput(f"The language model sent no usable reply: {detail}.", output="", detail=detail)
            try:
                result = parse(text)
            except BadOutput as bad:
                if attempt > 1:  # the repair request of `structured` failed too
                    bad = BadOutput(
                        "The language model's reply did not match the expected format, "
                        f"even after one repair attempt: {bad.detail}",
                        output=bad.output,
                        detail=bad.detail,
                    )
                raise bad
        except LLMError as err:
            self._record(purpose, model, prompt_version, started, usage, err.outcome, str(err), attempt)
            raise
        self._record(purpose, model, prompt_version, started, usage, "ok", None, attempt)
        return result

    def _cut_short(self) -> LLMConnectionError:
        return LLMConnectionError(
            f"The connection to the language model at {self._host} broke before the reply was complete. Try again."
        )

    def _translate(self, exc: Exception) -> LLMError:
        """Map an openai (or parsing) exception to an LLMError with a message for people."""
        # callers raise the result `from None`: the SDK's message can quote the key back
        # (e.g. "Incorrect API key provided: sk-..."), and chained causes reach tracebacks
        log.debug("language model call failed: %s", redact(f"{type(exc).__name__}: {exc}", self.settings.api_key))
        host = self._host
        if isinstance(exc, openai.APITimeoutError):
            return LLMTimeout(
                f"The language model at {host} did not answer within {self.settings.timeout_s:g} s. Try again."
            )
        if isinstance(exc, openai.APIConnectionError):
            return LLMConnectionError(
                f"Could not reach the language model at {host}. Check the base URL and that the server is running."
            )
        if isinstance(exc, openai.RateLimitError):
            err = LLMRateLimited(f"The language model at {host} is rate-limiting requests. Wait a moment and retry.")
            err.retry_after = retry_after(exc.response)
            return err
        if isinstance(exc, (openai.AuthenticationError, openai.PermissionDeniedError)):
            # the server's text can quote part of the key, so it is not shown
            return LLMAuthError(f"The language model at {host} rejected the API key (HTTP {exc.status_code}).")
        if isinstance(exc, openai.APIStatusError):
            if exc.status_code >= 500:
                err = LLMServerError(
                    f"The language model service at {host} had an internal error (HTTP {exc.status_code}). "
                    "Try again later."
                )
                err.retry_after = retry_after(exc.response)     # 503 with Retry-After: a planned pause
                return err
            detail = redact(_server_message(exc), self.settings.api_key)
            return LLMRequestError(
                f"The language model at {host} refused the request (HTTP {exc.status_code}): {detail}"
            )
        if isinstance(exc, (openai.APIResponseValidationError, ValueError, AttributeError)):
            return LLMOutputError(f"The language model at {host} sent a response that could not be read.")
        return LLMError(f"The language model call to {host} failed ({type(exc).__name__}).")

    def _record(
        self,
        purpose: str,
        model: str,
        prompt_version: str | None,
        started: float,
        usage: tuple[int | None, int | None],
        outcome: str,
        error: str | None = None,
        attempt: int = 1,
        estimated: bool = False,
    ) -> None:
        if self._on_call is None:
            return
        scope = current_scope()
        record = CallRecord(
            purpose=purpose,
            model=model,
            endpoint_host=self._host,
            prompt_version=prompt_version,
            input_tokens=usage[0],
            output_tokens=usage[1],
            latency_ms=round((time.perf_counter() - started) * 1000),
            outcome=outcome,
            error=None if error is None else redact(error, self.settings.api_key)[:_MAX_DETAIL],
            attempt=attempt,
            session_id=scope.session_id,
            participant_id=scope.participant_id,
            tokens_estimated=estimated,
        )
        try:
            self._on_call(record)
        except Exception:
            # a failing usage log must not lose a participant's reply
            log.exception("on_call failed for %s", purpose)


# ---------------------------------------------------------------------- helpers


def _wire(messages: Sequence[ChatMessage]) -> list[dict[str, str]]:
    return [{"role": m["role"], "content": m["content"]} for m in messages]


def _server_message(exc: openai.APIStatusError) -> str:
    body = exc.body
    if isinstance(body, dict) and isinstance(body.get("message"), str):
        return body["message"][:200]
    return exc.message[:200] if isinstance(exc.message, str) else "no details"


def retry_after(response: Any) -> float | None:
    """Seconds the server asked to wait (Retry-After: seconds or an HTTP date; retry-after-ms), or None."""
    headers = getattr(response, "headers", None) or {}
    try:
        if (ms := headers.get("retry-after-ms")) is not None:
            return max(float(ms) / 1000, 0.0)
        value = headers.get("retry-after")
        if value is None:
            return None
        try:
            return max(float(value), 0.0)
        except ValueError:
            from email.utils import parsedate_to_datetime

            return max(parsedate_to_datetime(value).timestamp() - time.time(), 0.0)
    except (TypeError, ValueError, OverflowError):
        return None


class _HideThinking:
    """Streamed text without a leading <think>…</think> block: reasoning models (DeepSeek-R1, Qwen3) stream their
    notes there, and a participant must never read them. Text is held back only while it may still be the start
    of such a block."""

    OPEN, CLOSE = "<think>", "</think>"

    def __init__(self) -> None:
        self._pending = ""
        self._state = "undecided"        # "undecided", "thinking", "text"

    def feed(self, delta: str) -> list[str]:
        if self._state == "text":
            return [delta]
        self._pending += delta
        if self._state == "undecided":
            head = self._pending.lstrip().lower()
            if head.startswith(self.OPEN):
                self._state = "thinking"
            elif self.OPEN.startswith(head):
                return []                # "<thi": not known yet
            else:
                self._state = "text"
                out, self._pending = self._pending, ""
                return [out]
        end = self._pending.lower().find(self.CLOSE)
        if end < 0:
            return []
        rest = self._pending[end + len(self.CLOSE):].lstrip()
        self._pending, self._state = "", "text"
        return [rest] if rest else []

    def flush(self) -> list[str]:
        """What is left at the end: a short reply held back as undecided (an unclosed block shows nothing)."""
        out = self._pending if self._state == "undecided" and self._pending else ""
        self._pending = ""
        return [out] if out else []
