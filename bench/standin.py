"""A fast, deterministic STAND-IN embedding for the large-corpus benchmarks.

The real model (all-MiniLM-L6-v2 run with NumPy) embeds only a few dozen chunks per second on a
2-core box, so 10k/100k-paper indexes cannot be embedded with it in a benchmark run. This
stand-in hashes the words of a text into 2**14 buckets, each bucket a fixed random Gaussian
vector in 384 dimensions, sums them (stop words dropped) and L2-normalizes: a random projection
of the bag of words. Texts that share words get nearby vectors, so the HNSW graph sees clustered,
text-like data rather than uniform noise, and dense results are still topical.

Costs measured with it are real for everything except the model itself: parsing, chunking,
Chroma writes, HNSW search, BM25 and fusion. The model's cost is measured separately on a sample
with the real model and extrapolated (ingest), or paid for real (queries, ``query_cost_model``).
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Callable
from typing import Any

import numpy as np

from rag.embeddings.base import Embedder

DIM = 384
BUCKETS = 1 << 14
_WORD = re.compile(r"[a-z0-9]+")
_STOP = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "by",
        "can",
        "for",
        "from",
        "has",
        "have",
        "in",
        "is",
        "it",
        "its",
        "of",
        "on",
        "or",
        "our",
        "such",
        "that",
        "the",
        "their",
        "these",
        "this",
        "to",
        "we",
        "which",
        "with",
    ]
)


class StandInEmbedding:
    """Random projection of hashed words into 384-d unit vectors (see the module docstring).

    With ``query_cost_model`` set (a factory, called on the first query, so that loading the
    real model lands in the first query's ``embed_query`` time as it does in Scholium), every
    query embedding also runs that real model and discards its vector: the query path pays the
    real model's latency while the vector stays in the stand-in space the index was built with.
    Implements Scholium's ``Embedder`` protocol (no llama-index import: cold starts measure
    Scholium, not the harness); ``rag.embeddings.to_llama_index`` wraps it for llama-index.
    """

    def __init__(self, query_cost_model: Callable[[], Embedder] | None = None, seed: int = 0) -> None:
        self.model_name = "bench-standin-hash-384"
        self.embed_batch_size = 256
        rng = np.random.default_rng(seed)
        self._matrix = rng.standard_normal((BUCKETS, DIM), dtype=np.float32)
        self._cost_factory = query_cost_model
        self._cost_model: Embedder | None = None

    def vector(self, text: str) -> list[float]:
        """The stand-in vector of ``text``."""
        words = [w for w in _WORD.findall(text.lower()) if w not in _STOP]
        if not words:
            words = ["<empty>"]
        rows = np.fromiter((zlib.crc32(w.encode()) % BUCKETS for w in words), dtype=np.int64)
        vec = self._matrix[rows].sum(axis=0)
        norm = float(np.linalg.norm(vec)) or 1.0
        out: list[float] = (vec / norm).tolist()
        return out

    def get_query_embedding(self, query: str) -> list[float]:
        """The stand-in vector; pays the real model's query cost when configured."""
        if self._cost_factory is not None:
            if self._cost_model is None:
                self._cost_model = self._cost_factory()
            self._cost_model.get_query_embedding(query)
        return self.vector(query)

    def get_text_embedding_batch(
        self, texts: list[str], show_progress: bool = False, **_: Any
    ) -> list[list[float]]:
        """Stand-in vectors of ``texts``."""
        return [self.vector(t) for t in texts]


def embed_model_for(kind: str, settings: Any) -> Embedder | None:
    """The embedding model a benchmark index was built with: ``None`` (Scholium's own real
    model) for ``"real"``; the stand-in, paying the real model's cost per query, otherwise."""
    if kind == "real":
        return None
    from rag.embeddings import build_embed_model

    return StandInEmbedding(query_cost_model=lambda: build_embed_model(settings.embed))
