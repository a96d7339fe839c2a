"""OpenAI-compatible chat client for the generator (remote endpoint or the local llama.cpp server).

Every failure surfaces as :class:`LLMUnavailable` (endpoint down, timeout, 5xx after bounded
retries, a stream cut mid-way, a rejected request) or :class:`LLMBadOutput` (malformed response).
Messages name the endpoint, never the API key.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Self, cast
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
        retry_wait_s: float = 0.5,
    ) -> None:
        """``base_url`` overrides ``settings.llm.base_url``."""
        self.settings = settings
        self._explicit_url = base_url or settings.llm.base_url
        self.is_local = self._explicit_url is None
        self._retry_wait_s = retry_wait_s
        key = settings.llm.api_key
        self._api_key = key.get_secret_value() if key is not None else "sk-no-key"
        self._timeout = openai.Timeout(settings.llm.timeout_s, connect=settings.llm.connect_timeout_s)
        self._lock = threading.Lock()
        self._base_url: str | None = None
        self._sync: openai.OpenAI | None = None

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

    def _sync_client(self) -> openai.OpenAI:
        url = self._endpoint_url()
        with self._lock:
            if self._sync is None:
                self._sync = openai.OpenAI(
                    api_key=self._api_key, base_url=url, timeout=self._timeout, max_retries=0
                )
            return self._sync

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

    def close(self) -> None:
        """Close the HTTP connections (the shared local server keeps running)."""
        if self._sync is not None:
            self._sync.close()
            self._sync = None

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
    ) -> dict[str, Any]:
        llm = self.settings.llm
        params: dict[str, Any] = {
            "model": llm.model,
            "messages": [dict(m) for m in messages],
            "max_tokens": llm.max_tokens if max_tokens is None else max_tokens,
            "temperature": llm.temperature if temperature is None else temperature,
        }
        return params

    def _retrying(self) -> tenacity.Retrying:
        return tenacity.Retrying(
            stop=tenacity.stop_after_attempt(max(0, self.settings.llm.max_retries) + 1),
            wait=tenacity.wait_exponential(multiplier=self._retry_wait_s, max=8),
            retry=tenacity.retry_if_exception(_is_transient),
            reraise=True,
            before_sleep=self._log_retry,
        )

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

    # -- requests ---------------------------------------------------------------------------------

    def chat(
        self,
        messages: Sequence[Message],
        *,
        max_tokens: int | None = None,
        temperature: float | None = None,
    ) -> str:
        """The assistant's reply text."""
        params = self._params(messages, max_tokens, temperature)
        start = time.perf_counter()
        try:
            client = self._sync_client()
            completion = self._retrying()(client.chat.completions.create, **params)
            text = self._text(completion)
        except Exception as exc:
            raise self._map_error(exc) from exc
        log.debug("chat on %s took %.2f s", self.endpoint, time.perf_counter() - start)
        return text

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


def _delta(chunk: ChatCompletionChunk) -> tuple[str, bool]:
    if not chunk.choices:
        return "", False
    choice = chunk.choices[0]
    text = (choice.delta.content or "") if choice.delta else ""
    return text, choice.finish_reason is not None
