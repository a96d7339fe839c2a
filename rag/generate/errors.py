"""Generator errors (importable without the HTTP client)."""

from __future__ import annotations


class LLMError(RuntimeError):
    """Base class of generator errors."""


class LLMUnavailable(LLMError):
    """The endpoint could not produce an answer (down, timed out, 5xx, stream cut, rejected)."""


class LLMRejected(LLMUnavailable):
    """The endpoint refused the request with HTTP 4xx (bad request, auth, context too long)."""

    def __init__(self, message: str, status_code: int) -> None:
        super().__init__(message)
        self.status_code = status_code


class LLMBadOutput(LLMError):
    """The endpoint answered, but not with what was asked for (malformed or invalid JSON)."""
