"""Answer generation: model files, the embedded llama.cpp server and the OpenAI-compatible client.

Names are imported lazily: ``openai`` (about 1 s to import) loads only when the client is used.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .client import LLMClient
    from .errors import LLMBadOutput, LLMError, LLMRejected, LLMUnavailable
    from .local_server import (
        LocalLLMServer,
        LocalServerError,
        ensure_local_server,
        get_local_server,
        stop_local_servers,
    )
    from .model_files import PRESETS, ModelFileError, ModelNotInstalled, resolve_gguf

_WHERE = {
    "LLMBadOutput": "errors",
    "LLMClient": "client",
    "LLMError": "errors",
    "LLMRejected": "errors",
    "LLMUnavailable": "errors",
    "LocalLLMServer": "local_server",
    "LocalServerError": "local_server",
    "ensure_local_server": "local_server",
    "get_local_server": "local_server",
    "stop_local_servers": "local_server",
    "PRESETS": "model_files",
    "ModelFileError": "model_files",
    "ModelNotInstalled": "model_files",
    "resolve_gguf": "model_files",
}

__all__ = [
    "PRESETS",
    "LLMBadOutput",
    "LLMClient",
    "LLMError",
    "LLMRejected",
    "LLMUnavailable",
    "LocalLLMServer",
    "LocalServerError",
    "ModelFileError",
    "ModelNotInstalled",
    "ensure_local_server",
    "get_local_server",
    "resolve_gguf",
    "stop_local_servers",
]


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{_WHERE[name]}", __name__), name)
    globals()[name] = value
    return value
