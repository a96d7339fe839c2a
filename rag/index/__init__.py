"""Indexing: chunking, embeddings into Chroma, the BM25 index and paper records next to it.

Writing lives in :mod:`rag.index.ingest` (``ingest``, ``delete_papers``, ``IngestReport``); it
imports llama-index (chunking, the vector-store integration), so it is not imported here: a
process that only searches never pays for that import.
"""

from .store import ScholiumIndex

__all__ = ["ScholiumIndex"]
