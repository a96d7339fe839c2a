"""Structured logging: ``text`` or ``json`` lines on stderr, with secrets redacted."""

from __future__ import annotations

import json
import logging
import re
import sys
import time
from collections.abc import Iterable

_SECRET = re.compile(r"(sk-[A-Za-z0-9_\-]{8,}|(?i:bearer)\s+[A-Za-z0-9._\-]{8,}|(?i:api[_-]?key)[=:]\s*\S+)")


class RedactSecrets(logging.Filter):
    """Replace API keys (known values and key-like patterns) in log messages."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self.secrets = [s for s in secrets if s and len(s) >= 6]

    def redact(self, text: str) -> str:
        """``text`` with secrets replaced by ``***``."""
        for secret in self.secrets:
            text = text.replace(secret, "***")
        return _SECRET.sub("***", text)

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = self.redact(record.getMessage())
        record.args = None
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message (+ exception)."""

    def format(self, record: logging.LogRecord) -> str:
        data = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            data["exception"] = self.formatException(record.exc_info)
        return json.dumps(data, ensure_ascii=False)


class _CurrentStderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """A stream handler that always writes to the *current* ``sys.stderr``.

    ``sys.stderr`` may be replaced (and the old one closed) after logging is set up, e.g. by a
    test runner's capture or a host application: never keep a reference to a stream that may
    be closed later.
    """

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property  # type: ignore[override]
    def stream(self):  # type: ignore[no-untyped-def]
        return sys.stderr

    @stream.setter
    def stream(self, _value: object) -> None:  # the base class assigns it; always follow sys.stderr
        pass


def configure_logging(level: str = "WARNING", fmt: str = "text", secrets: Iterable[str] = ()) -> None:
    """Set up the ``rag`` logger once (idempotent: reconfigures the same handler)."""
    logger = logging.getLogger("rag")
    logger.setLevel(level.upper())
    logger.propagate = False
    handler = next((h for h in logger.handlers if getattr(h, "_scholium", False)), None)
    if handler is None:
        handler = _CurrentStderrHandler()
        handler._scholium = True  # type: ignore[attr-defined]
        logger.addHandler(handler)
    handler.setFormatter(
        JsonFormatter() if fmt == "json" else logging.Formatter("%(levelname)s %(name)s: %(message)s")
    )
    handler.filters = [RedactSecrets(secrets)]
