"""Embedding models: the offline default and pluggable llama-index alternatives."""

from __future__ import annotations

import importlib

from llama_index.core.base.embeddings.base import BaseEmbedding

from ..settings import EmbedSettings
from .model import LocalSentenceEmbedding
from .sources import EmbeddingModelNotFound, resolve_model_dir

__all__ = ["EmbeddingModelNotFound", "LocalSentenceEmbedding", "build_embed_model", "resolve_model_dir"]


def build_embed_model(settings: EmbedSettings) -> BaseEmbedding:
    """The embedding model the settings ask for."""
    if settings.provider == "local":
        return LocalSentenceEmbedding(
            model_spec=settings.model,
            threads=settings.threads,
            max_length=settings.max_length,
            embed_batch_size=settings.batch_size,
        )
    try:
        module = importlib.import_module("llama_index.embeddings.openai")
    except ImportError as exc:
        raise EmbeddingModelNotFound(
            "embed.provider='openai' needs: pip install llama-index-embeddings-openai"
        ) from exc
    key = settings.api_key.get_secret_value() if settings.api_key else None
    model: BaseEmbedding = module.OpenAIEmbedding(
        model=settings.model,
        api_base=settings.api_base,
        api_key=key,
        embed_batch_size=settings.batch_size,
    )
    return model
