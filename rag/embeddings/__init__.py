"""Embedding models: the offline default and pluggable llama-index alternatives."""

from __future__ import annotations

import functools
import importlib
import types
from types import ModuleType
from typing import Any

from ..settings import EmbedSettings
from .base import Embedder, to_llama_index
from .model import LocalSentenceEmbedding
from .sources import EmbeddingModelNotFound, resolve_model_dir

__all__ = [
    "Embedder",
    "EmbeddingModelNotFound",
    "LocalSentenceEmbedding",
    "build_embed_model",
    "resolve_model_dir",
    "to_llama_index",
]


def build_embed_model(settings: EmbedSettings) -> Embedder:
    """The embedding model the settings ask for."""
    if settings.provider == "local":
        return LocalSentenceEmbedding(
            model_spec=settings.model,
            threads=settings.threads,
            max_length=settings.max_length,
            embed_batch_size=settings.batch_size,
            workers=settings.workers,
        )
    key = settings.api_key.get_secret_value() if settings.api_key else None
    if settings.provider == "openai-like":
        if not (settings.api_base or "").strip():
            raise ValueError(
                "embed.provider='openai-like' needs embed.api_base: the base URL of your "
                "OpenAI-compatible embeddings server, e.g. 'http://gpu-host:8000/v1'"
            )
        module = _import_integration("llama_index.embeddings.openai_like", settings.provider)
        model: Embedder = _key_hidden(module.OpenAILikeEmbedding)(
            model_name=settings.model,
            api_base=settings.api_base,
            api_key=key or "none",  # the OpenAI client insists on some key; most servers ignore it
            embed_batch_size=settings.batch_size,
            timeout=settings.timeout_s,
            max_retries=settings.max_retries,
        )
        return model
    module = _import_integration("llama_index.embeddings.openai", settings.provider)
    model = _key_hidden(module.OpenAIEmbedding)(
        model=settings.model,
        api_base=settings.api_base,
        api_key=key,
        embed_batch_size=settings.batch_size,
        timeout=settings.timeout_s,
        max_retries=settings.max_retries,
    )
    return model


def _import_integration(name: str, provider: str) -> ModuleType:
    """The llama-index integration module ``name``, or an error with the install command."""
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        raise EmbeddingModelNotFound(
            f"embed.provider={provider!r} needs: pip install 'scholium[openai-embeddings]' "
            "(llama-index-embeddings-openai and llama-index-embeddings-openai-like)"
        ) from exc


@functools.cache
def _key_hidden(cls: type[Any]) -> type[Any]:
    """``cls`` (a llama-index OpenAI embedding class, a pydantic model) with ``api_key`` left
    out of ``repr()``/``str()``: llama-index shows the key in clear there."""

    def __repr_args__(self: Any) -> list[tuple[str | None, Any]]:
        return [(k, v) for k, v in super(hidden, self).__repr_args__() if k != "api_key"]

    def body(ns: dict[str, Any]) -> None:
        ns["__repr_args__"] = __repr_args__
        ns["__module__"] = __name__

    hidden: type[Any] = types.new_class(cls.__name__, (cls,), exec_body=body)
    return hidden
