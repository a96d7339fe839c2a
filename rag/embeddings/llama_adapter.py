"""A llama-index ``BaseEmbedding`` around any :class:`~rag.embeddings.base.Embedder`
(imported only when a llama-index pipeline needs one)."""

from __future__ import annotations

import asyncio
from typing import Any

from llama_index.core.base.embeddings.base import BaseEmbedding
from pydantic import PrivateAttr

from .base import Embedder


class LlamaIndexEmbedding(BaseEmbedding):
    """Delegates to the wrapped model (same vectors, llama-index's interface)."""

    _inner: Any = PrivateAttr()

    @classmethod
    def wrap(cls, model: Embedder) -> LlamaIndexEmbedding:
        """Wrap ``model``; batch size follows the model's own when it has one."""
        adapter = cls(model_name=model.model_name, embed_batch_size=getattr(model, "embed_batch_size", 32))
        adapter._inner = model
        return adapter

    @classmethod
    def class_name(cls) -> str:
        return "LlamaIndexEmbedding"

    def _get_query_embedding(self, query: str) -> list[float]:
        vector: list[float] = self._inner.get_query_embedding(query)
        return vector

    def _get_text_embedding(self, text: str) -> list[float]:
        vectors: list[list[float]] = self._inner.get_text_embedding_batch([text])
        return vectors[0]

    def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
        vectors: list[list[float]] = self._inner.get_text_embedding_batch(texts)
        return vectors

    async def _aget_query_embedding(self, query: str) -> list[float]:
        return await asyncio.to_thread(self._get_query_embedding, query)

    async def _aget_text_embedding(self, text: str) -> list[float]:
        return await asyncio.to_thread(self._get_text_embedding, text)
