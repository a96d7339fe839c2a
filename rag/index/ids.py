"""Chunk ids: ``<paper id>:<content hash>:<n>`` (no llama-index needed to read them)."""

from __future__ import annotations


def chunk_id(paper_id: str, content_hash: str, index: int) -> str:
    """Chunk ids carry the paper id and content hash, so a changed abstract gets new ids."""
    return f"{paper_id}:{content_hash}:{index}"


def paper_of(chunk: str) -> str:
    """The paper id inside a chunk id."""
    return chunk.split(":", 1)[0]
