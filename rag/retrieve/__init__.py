"""Retrieval: dense + lexical candidates, fused and grouped to one result per paper
(:mod:`.retriever`, :mod:`.fusion`); a list question's topic without its frame for the lexical
side (:mod:`.query`); question words corrected against the collection's vocabulary
before searching (:mod:`.spelling`)."""

from ..index.filters import SearchFilters
from .fusion import reciprocal_rank_fusion
from .retriever import HybridRetriever, Mode, RetrievalTrace

__all__ = ["HybridRetriever", "Mode", "RetrievalTrace", "SearchFilters", "reciprocal_rank_fusion"]
