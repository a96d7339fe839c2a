"""Hybrid retrieval: dense (Chroma) + lexical (BM25), fused with RRF and grouped by paper."""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import numpy as np
from llama_index.core.vector_stores import VectorStoreQuery

from ..index.chunking import paper_of
from ..index.store import ScholiumIndex
from ..types import ChunkHit, SearchResult
from .filters import SearchFilters
from .fusion import reciprocal_rank_fusion

Mode = Literal["hybrid", "dense", "lexical"]


@dataclass
class RetrievalTrace:
    """Per-stage timings (seconds) of one retrieval."""

    timings: dict[str, float] = field(default_factory=dict)


class HybridRetriever:
    """Paper-level search over a ScholiumIndex."""

    def __init__(self, index: ScholiumIndex) -> None:
        self.index = index
        self.settings = index.settings.retrieval

    def dense(
        self, query: str, n: int, filters: SearchFilters, trace: RetrievalTrace
    ) -> dict[str, tuple[ChunkHit, dict[str, Any]]]:
        """Top ``n`` chunks by cosine similarity, with their metadata."""
        clock = time.perf_counter()
        vector = self.index.embed_model.get_query_embedding(query)
        trace.timings["embed_query"] = time.perf_counter() - clock
        clock = time.perf_counter()
        where = filters.to_where()
        result = self.index.chroma.store.query(
            VectorStoreQuery(query_embedding=vector, similarity_top_k=n),
            **({"where": where} if where else {}),
        )
        trace.timings["dense"] = time.perf_counter() - clock
        hits: dict[str, tuple[ChunkHit, dict[str, Any]]] = {}
        for node, sim in zip(result.nodes or [], result.similarities or [], strict=False):
            hit = ChunkHit(
                chunk_id=node.node_id,
                paper_id=str(node.metadata.get("paper_id") or paper_of(node.node_id)),
                text=node.get_content(),
                score=float(sim),
                dense_score=float(sim),
            )
            hits[node.node_id] = (hit, dict(node.metadata))
        return hits

    def lexical(
        self, query: str, n: int, filters: SearchFilters, trace: RetrievalTrace
    ) -> list[tuple[str, float]]:
        """Top ``n`` chunks by BM25."""
        clock = time.perf_counter()
        lexical = self.index.lexical
        mask = None
        if not filters.empty:
            mask = np.array([filters.matches(m) for m in lexical.meta], dtype=np.float32)
        hits = lexical.search(query, n, mask=mask)
        trace.timings["lexical"] = time.perf_counter() - clock
        return hits

    def search(
        self,
        query: str,
        k: int | None = None,
        *,
        mode: Mode | None = None,
        filters: SearchFilters | None = None,
        trace: RetrievalTrace | None = None,
    ) -> list[SearchResult]:
        """The ``k`` best papers for ``query``, each with its best chunks."""
        k = k or self.settings.k
        mode = mode or self.settings.mode
        filters = filters or SearchFilters()
        trace = trace or RetrievalTrace()
        n = max(self.settings.candidates, k * 4)
        dense = self.dense(query, n, filters, trace) if mode != "lexical" else {}
        lexical = self.lexical(query, n, filters, trace) if mode != "dense" else []
        clock = time.perf_counter()
        rankings = [list(dense)] if dense else []
        if lexical:
            rankings.append([c for c, _ in lexical])
        fused = reciprocal_rank_fusion(rankings, self.settings.rrf_k)
        lexical_scores = dict(lexical)
        # Paper-level ranking: a paper's score is its best chunk's fused score.
        by_paper: dict[str, list[str]] = {}
        for chunk in sorted(fused, key=fused.__getitem__, reverse=True):
            by_paper.setdefault(paper_of(chunk), []).append(chunk)
        papers = [(pid, chunks[: self.settings.chunks_per_paper]) for pid, chunks in by_paper.items()][:k]
        missing = [c for _, chunks in papers for c in chunks if c not in dense]
        stored = {
            c: (ChunkHit(c, paper_of(c), text, 0.0), meta)
            for c, (text, meta) in self.index.chroma.get(missing).items()
        }
        trace.timings["fusion"] = time.perf_counter() - clock
        results: list[SearchResult] = []
        for pid, chunks in papers:
            hits: list[ChunkHit] = []
            for chunk in chunks:
                base, _ = dense.get(chunk) or stored[chunk]
                hits.append(replace(base, score=fused[chunk], lexical_score=lexical_scores.get(chunk)))
            meta = (dense.get(chunks[0]) or stored[chunks[0]])[1]
            results.append(
                SearchResult(
                    paper_id=pid,
                    title=str(meta.get("title", "")),
                    score=fused[chunks[0]],
                    chunks=hits,
                    metadata=meta,
                )
            )
        return results
