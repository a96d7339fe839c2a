"""Indexing: chunking, embeddings into Chroma, the BM25 index and paper records next to it."""

from .ingest import IngestReport, delete_papers, ingest
from .store import ScholiumIndex

__all__ = ["IngestReport", "ScholiumIndex", "delete_papers", "ingest"]
