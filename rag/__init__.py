"""Scholium: answers about a corpus of research abstracts, with verified citations.

Read top-down, the package is the pipeline::

    corpus/     listing pages and arXiv JSONL → de-duplicated Paper records
    index/      chunking → embeddings → Chroma (+ BM25 and paper records next to it)
    embeddings/ the offline default embedding model (and pluggable alternatives)
    retrieve/   dense + lexical search, fused, one result per paper
    answer/     evidence selection → generation → citation checking → Answer
    generate/   OpenAI-compatible LLM client and the embedded llama.cpp server
    assistant   the public API (``Assistant``), used by the CLI (``cli``) and the UI
"""

from . import offline as _offline  # noqa: F401  (must run before tiktoken is used)
from .assistant import Assistant
from .retrieve import SearchFilters
from .settings import Settings
from .types import Answer, Citation, CollectionSummary, Paper, SearchResult

__all__ = [
    "Answer",
    "Assistant",
    "Citation",
    "CollectionSummary",
    "Paper",
    "SearchFilters",
    "SearchResult",
    "Settings",
]
__version__ = "0.1.0"
