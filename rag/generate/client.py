"""OpenAI-compatible chat client for the generator (remote endpoint or the local llama.cpp server).

Every failure surfaces as :class:`LLMUnavailable` (endpoint down, timeout, 5xx after bounded
retries, a stream cut mid-way, a rejected request) or :class:`LLMBadOutput` (malformed response,
invalid JSON in JSON mode). Messages name the endpoint, never the API key.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal, Self, TypeVar, cast
from urllib.parse import urlsplit, urlunsplit

import openai
import tenacity

from .errors import LLMBadOutput, LLMError, LLMRejected, LLMUnavailable
from .local_server import ensure_local_server, settle_local_server

if TYPE_CHECKING:
    from openai.types.chat import ChatCompletion, ChatCompletionChunk

    from rag.settings import Settings

log = logging.getLogger("rag.generate.client")

Message = Mapping[str, Any]
JsonStyle = Literal["json_object", "json_schema"]
T = TypeVar("T")


def _transport_errors() -> tuple[type[BaseException], ...]:
    """HTTP-library errors raised while iterating a stream (openai 1.x uses httpx, 3.x httpx2)."""
    errors: list[type[BaseException]] = [openai.APIError, OSError]
    for name in ("httpx2", "httpx"):
        try:
            module = __import__(name)
        except ImportError:
            continue
        errors.append(module.HTTPError)
    return tuple(errors)


_STREAM_ERRORS = _transport_errors()


def _is_transient(exc: BaseException) -> bool:
    if isinstance(exc, openai.APIConnectionError):  # includes APITimeoutError
        return True
    return isinstance(exc, openai.APIStatusError) and exc.status_code >= 500


def redact_url(url: str) -> str:
    """``url`` without user info, query or fragment (safe to log and show)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


class LLMClient:
    """Chat completions against ``settings.llm.base_url`` or the embedded llama.cpp server.

    The local server is started lazily on the first request (see
    :func:`rag.generate.local_server.ensure_local_server`).
    """

    def __init__(
        self,
        settings: Settings,
        *,
        base_url: str | None = None,
        json_style: JsonStyle | None = None,
        retry_wait_s: float = 0.5,
    ) -> None:
        """``base_url`` overrides ``settings.llm.base_url``; ``json_style`` overrides detection."""
        self.settings = settings
        self._json_style = json_style
        self._explicit_url = base_url or settings.llm.base_url
        self.is_local = self._explicit_url is None
        self._retry_wait_s = retry_wait_s
        key = settings.llm.api_key
        self._api_key = key.get_secret_value() if key is not None else "sk-no-key"
        self._timeout = openai.Timeout(settings.llm.timeout_s, connect=settings.llm.connect_timeout_s)
        self._lock = threading.Lock()
        self._base_url: str | None = None
        self._sync: openai.OpenAI | None = None
        self._async: openai.AsyncOpenAI | None = None
        self._async_loop: object = None

    # -- endpoint -------------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """The endpoint in use (starts the local server if needed)."""
        with self._lock:
            if self._base_url is None:
                self._base_url = self._explicit_url or ensure_local_server(self.settings)
            return self._base_url

    @property
    def endpoint(self) -> str:
        """The endpoint for messages and logs (no credentials); does not start anything."""
        url = self._base_url or self._explicit_url
        return redact_url(url) if url else "local llama.cpp server (not started)"

    @property
    def json_style(self) -> JsonStyle:
        """How ``json_schema`` is sent: llama.cpp's ``json_object`` + schema, or OpenAI's form."""
        mode = self._json_style or str(getattr(self.settings.llm, "json_mode", "auto"))
        if mode in ("json_object", "json_schema"):
            return cast(JsonStyle, mode)
        return "json_object" if self.is_local else "json_schema"

    def _sync_client(self) -> openai.OpenAI:
        url = self._endpoint_url()
        with self._lock:
            if self._sync is None:
                self._sync = openai.OpenAI(
                    api_key=self._api_key, base_url=url, timeout=self._timeout, max_retries=0
                )
            return self._sync

    def _async_client(self, url: str, loop: object) -> openai.AsyncOpenAI:
        with self._lock:
            if self._async is None or self._async_loop is not loop:  # one per event loop
                self._async_loop = loop
                self._async = openai.AsyncOpenAI(
                    api_key=self._api_key, base_url=url, timeout=self._timeout, max_retries=0
                )
            return self._async

    def _endpoint_url(self) -> str:
        try:
            return self.base_url
        except LLMError:
            raise
        except Exception as exc:  # model not installed, server failed to start ...
            raise LLMUnavailable(f"local LLM server unavailable: {exc}") from exc

    def _forget_endpoint(self) -> None:
        with self._lock:
            self._base_url = None
            if self._sync is not None:
                self._sync.close()
            self._sync = None
            self._async = None

    def close(self) -> None:
        """Close the HTTP connections (the shared local server keeps running)."""
        if self._sync is not None:
            self._sync.close()
            self._sync = None

    async def aclose(self) -> None:
        """Close the async HTTP connections."""
        if self._async is not None:
            await self._async.close()
            self._async = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- request building -----------------------------------------------------------------------

    def _params(
        self,
        messages: Sequence[Message],
        max_tokens: int | None,
        temperature: float | None,
        json_schema: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        llm = self.settings.llm
        params: dict[str, Any] = {
            "model": llm.model,
            "messages": [dict(m) for m in messages],
            "max_tokens": llm.max_tokens if max_tokens is None else max_tokens,
            "temperature": llm.temperature if temperature is None else temperature,
        }
        if json_schema is not None:
            params["response_format"] = self._response_format(json_schema)
        return params

    def _response_format(self, schema: Mapping[str, Any]) -> dict[str, Any]:
        if self.json_style == "json_object":
            return {"type": "json_object", "schema": dict(schema)}
        name = re.sub(r"[^A-Za-z0-9_-]", "_", str(schema.get("title", "response")))[:64]
        return {
            "type": "json_schema",
            "json_schema": {"name": name or "response", "schema": dict(schema), "strict": True},
        }

    def _retrying(self) -> tenacity.Retrying:
        return tenacity.Retrying(**self._retry_kwargs())

    def _retry_kwargs(self) -> dict[str, Any]:
        return {
            "stop": tenacity.stop_after_attempt(max(0, self.settings.llm.max_retries) + 1),
            "wait": tenacity.wait_exponential(multiplier=self._retry_wait_s, max=8),
            "retry": tenacity.retry_if_exception(_is_transient),
            "reraise": True,
            "before_sleep": self._log_retry,
        }

    def _log_retry(self, state: tenacity.RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        log.warning(
            "LLM request to %s failed (%s), retry %d",
            self.endpoint,
            type(exc).__name__,
            state.attempt_number,
        )

    # -- error mapping --------------------------------------------------------------------------

    def _scrub(self, text: str) -> str:
        if self._api_key and self._api_key != "sk-no-key":
            text = text.replace(self._api_key, "***")
        return text

    def _map_error(self, exc: BaseException, *, midstream: bool = False) -> LLMError:
        where = self.endpoint
        if self.is_local and not isinstance(exc, openai.APIStatusError | LLMError):
            if self._base_url is not None:
                settle_local_server(self._base_url)  # a crashed server must be seen as crashed
            self._forget_endpoint()  # the next request re-checks (and restarts) the local server
        if isinstance(exc, LLMError):
            return exc
        timed_out = "timeout" in type(exc).__name__.lower()
        if midstream and not isinstance(exc, openai.APIStatusError | ValueError | TypeError):
            kind = "timed out" if timed_out else "broke off"
            return LLMUnavailable(f"stream from LLM endpoint {where} {kind} ({type(exc).__name__})")
        if isinstance(exc, openai.APITimeoutError):
            msg = f"LLM endpoint {where} timed out (timeout {self.settings.llm.timeout_s:g} s)"
        elif isinstance(exc, openai.APIConnectionError):
            msg = f"cannot reach LLM endpoint {where}"
        elif isinstance(exc, openai.APIStatusError):
            code = exc.status_code
            if code >= 500:
                attempts = self.settings.llm.max_retries + 1
                msg = f"LLM endpoint {where} failed with HTTP {code} ({attempts} attempts)"
            else:
                detail = "" if code in (401, 403) else f": {self._scrub(str(exc.message))[:300]}"
                return LLMRejected(f"LLM endpoint {where} rejected the request (HTTP {code}){detail}", code)
        elif isinstance(exc, openai.APIResponseValidationError | ValueError | TypeError):
            return LLMBadOutput(f"LLM endpoint {where} returned a malformed response")
        elif isinstance(exc, _STREAM_ERRORS):
            kind = "timed out" if timed_out else "failed"
            msg = f"LLM endpoint {where} {kind} ({type(exc).__name__})"
        else:
            msg = f"LLM request to {where} failed: {type(exc).__name__}"
        return LLMUnavailable(msg)

    def _text(self, completion: ChatCompletion) -> str:
        try:
            content = completion.choices[0].message.content
        except (AttributeError, IndexError, TypeError) as exc:
            raise LLMBadOutput(f"LLM endpoint {self.endpoint} returned no choices") from exc
        if not isinstance(content, str):
            raise LLMBadOutput(f"LLM endpoint {self.endpoint} returned no text")
        usage = getattr(completion, "usage", None)
        if usage is not None:
            log.debug("usage: prompt=%s completion=%s", usage.prompt_tokens, usage.completion_tokens)
        return content

    def _check_json(self, text: str, completion: ChatCompletion) -> str:
        try:
            # strict=False: llama.cpp grammars let raw control characters into strings
            json.loads(text, strict=False)
        except ValueError as exc:
            reason = getattr(completion.choices[0], "finish_reason", None)
            why = " (hit max_tokens)" if reason == "length" else ""
            raise LLMBadOutput(f"LLM returned invalid JSON{why}: {exc}") from exc
        return text

    # -- sync API -------------------------------------------------------------------------------

    def chat(
        self,
        messages: Sequence[Message],
        *,
        max_tokens: int | None = None,
        json_schema: Mapping[str, Any] | None = None,
        temperature: float | None = None,
    ) -> str:
        """The assistant's reply text. With ``json_schema`` the reply is checked to be JSON."""
        params = self._params(messages, max_tokens, temperature, json_schema)
        start = time.perf_counter()
        try:
            client = self._sync_client()
            completion = self._retrying()(client.chat.completions.create, **params)
            text = self._text(completion)
        except Exception as exc:
            raise self._map_error(exc) from exc
        log.debug("chat on %s took %.2f s", self.endpoint, time.perf_counter() - start)
        return self._check_json(text, completion) if json_schema is not None else text

    def chat_json(
        self,
        messages: Sequence[Message],
        json_schema: Mapping[str, Any],
        *,
        max_tokens: int | None = None,
        temperature: float | None = None,
    ) -> Any:
        """Like :meth:`chat` with a schema, returning the parsed JSON value."""
        text = self.chat(messages, max_tokens=max_tokens, json_schema=json_schema, temperature=temperature)
        return json.loads(text, strict=False)

    def stream(
        self,
        messages: Sequence[Message],
        *,
        max_tokens: int | None = None,
        temperature: float | None = None,
    ) -> Iterator[str]:
        """Yield the reply as text deltas; a stream cut mid-way raises :class:`LLMUnavailable`."""
        params = self._params(messages, max_tokens, temperature)
        try:
            client = self._sync_client()
            chunks = cast(
                "openai.Stream[ChatCompletionChunk]",
                self._retrying()(client.chat.completions.create, stream=True, **params),
            )
        except Exception as exc:
            raise self._map_error(exc) from exc
        finished = False
        try:
            for chunk in chunks:
                text, done = _delta(chunk)
                finished = finished or done
                if text:
                    yield text
        except Exception as exc:
            raise self._map_error(exc, midstream=True) from exc
        finally:
            chunks.close()
        if not finished:
            raise LLMUnavailable(f"stream from LLM endpoint {self.endpoint} ended early")

    # -- async API ------------------------------------------------------------------------------

    async def _aclient(self) -> openai.AsyncOpenAI:
        loop = asyncio.get_running_loop()
        if self._async is not None and self._async_loop is loop:
            return self._async
        url = await asyncio.to_thread(self._endpoint_url)
        return self._async_client(url, loop)

    async def achat(
        self,
        messages: Sequence[Message],
        *,
        max_tokens: int | None = None,
        json_schema: Mapping[str, Any] | None = None,
        temperature: float | None = None,
    ) -> str:
        """Async :meth:`chat`."""
        params = self._params(messages, max_tokens, temperature, json_schema)
        try:
            client = await self._aclient()
            completion = await _aretry(self._retry_kwargs(), client.chat.completions.create, params)
            text = self._text(completion)
        except Exception as exc:
            raise self._map_error(exc) from exc
        return self._check_json(text, completion) if json_schema is not None else text

    async def astream(
        self,
        messages: Sequence[Message],
        *,
        max_tokens: int | None = None,
        temperature: float | None = None,
    ) -> AsyncIterator[str]:
        """Async :meth:`stream`."""
        params = self._params(messages, max_tokens, temperature)
        params["stream"] = True
        try:
            client = await self._aclient()
            chunks = await _aretry(self._retry_kwargs(), client.chat.completions.create, params)
        except Exception as exc:
            raise self._map_error(exc) from exc
        finished = False
        try:
            async for chunk in chunks:
                text, done = _delta(chunk)
                finished = finished or done
                if text:
                    yield text
        except Exception as exc:
            raise self._map_error(exc, midstream=True) from exc
        finally:
            await chunks.close()
        if not finished:
            raise LLMUnavailable(f"stream from LLM endpoint {self.endpoint} ended early")


async def _aretry(kwargs: dict[str, Any], fn: Callable[..., Any], params: dict[str, Any]) -> Any:
    async for attempt in tenacity.AsyncRetrying(**kwargs):
        with attempt:
            return await fn(**params)
    raise AssertionError("unreachable")  # pragma: no cover


def _delta(chunk: ChatCompletionChunk) -> tuple[str, bool]:
    if not chunk.choices:
        return "", False
    choice = chunk.choices[0]
    text = (choice.delta.content or "") if choice.delta else ""
    return text, choice.finish_reason is not None
