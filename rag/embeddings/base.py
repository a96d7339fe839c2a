"""What the index needs from an embedding model.

The offline default (:class:`~rag.embeddings.model.LocalSentenceEmbedding`) implements it
without importing llama-index (that import alone costs ~2 s of every cold start); any
llama-index ``BaseEmbedding`` (e.g. OpenAI embeddings) satisfies it as is.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    from llama_index.core.base.embeddings.base import BaseEmbedding


@runtime_checkable
class Embedder(Protocol):
    """Text → vector, for queries and for batches of documents."""

    model_name: str

    def get_query_embedding(self, query: str) -> list[float]:
        """The vector of one search query."""
        ...

    def get_text_embedding_batch(
        self, texts: list[str], show_progress: bool = False, **kwargs: Any
    ) -> list[list[float]]:
        """Vectors of ``texts`` in order."""
        ...


def to_llama_index(model: Embedder) -> BaseEmbedding:
    """``model`` as a llama-index ``BaseEmbedding`` (for llama-index pipelines such as the
    evaluation baseline): llama-index models are returned as they are, others wrapped."""
    from llama_index.core.base.embeddings.base import BaseEmbedding

    if isinstance(model, BaseEmbedding):
        return model
    from .llama_adapter import LlamaIndexEmbedding

    return LlamaIndexEmbedding.wrap(model)
