"""Hybrid retrieval: dense (Chroma) + lexical (BM25), fused with RRF and grouped by paper."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

from ..index.crosslingual import current_papers
from ..index.filters import SearchFilters
from ..index.ids import paper_of
from ..index.lexical import LexicalIndex
from ..index.store import ScholiumIndex
from ..types import ChunkHit, SearchResult
from .fusion import reciprocal_rank_fusion

log = logging.getLogger(__name__)

Mode = Literal["hybrid", "dense", "lexical"]


@dataclass(frozen=True)
class _PaperChunks:
    """The chunks of one published lexical index generation, by paper."""

    lexical: LexicalIndex
    stamp: str
    #: Every chunk id, each paper's chunks together and in text order.
    ordered: list[str]
    #: Paper id → content hash (the one its chunk ids carry).
    current: dict[str, str]
    #: Paper id → its first chunk.
    first: dict[str, str]

    @classmethod
    def read(cls, lexical: LexicalIndex) -> _PaperChunks:
        ordered = sorted(lexical.chunk_ids(), key=_chunk_order)
        return cls(lexical, lexical.stamp, ordered, current_papers(ordered), _first_chunks(ordered))

    def serves(self, lexical: LexicalIndex) -> bool:
        """Whether this was read off ``lexical`` as it is now."""
        return self.lexical is lexical and self.stamp == lexical.stamp


def _first_chunks(ordered: Iterable[str]) -> dict[str, str]:
    """Paper id → its first chunk, of chunk ids in text order."""
    first: dict[str, str] = {}
    for chunk in ordered:
        first.setdefault(paper_of(chunk), chunk)
    return first


@dataclass
class RetrievalTrace:
    """Per-stage timings (seconds) of one retrieval."""

    timings: dict[str, float] = field(default_factory=dict)


class HybridRetriever:
    """Paper-level search over a ScholiumIndex."""

    #: With filters, the dense stage asks for this many times more neighbours and keeps those
    #: that pass (Chroma's ``where`` scans metadata and is ~100x slower at 100k papers); it falls
    #: back to ``where`` when too few pass.
    oversample = 10

    def __init__(self, index: ScholiumIndex) -> None:
        self.index = index
        self.settings = index.settings.retrieval
        self._paper_chunks: _PaperChunks | None = None
        self._paper_chunks_lock = threading.Lock()

    def dense(
        self, query: str, n: int, filters: SearchFilters, trace: RetrievalTrace
    ) -> list[tuple[str, float]]:
        """Top ``n`` ``(chunk id, cosine-based similarity)`` pairs, best first."""
        clock = time.perf_counter()
        vector = self.index.embed_model.get_query_embedding(query)
        trace.timings["embed_query"] = time.perf_counter() - clock
        clock = time.perf_counter()
        chroma = self.index.chroma
        if filters.empty:
            hits = chroma.nearest(vector, n)
        else:
            lexical = self.index.lexical
            wide = chroma.nearest(vector, n * self.oversample)
            keep = lexical.passing([c for c, _ in wide], filters)
            hits = [(c, s) for c, s in wide if c in keep][:n]
            if len(hits) < n and len(wide) == n * self.oversample:
                # Chroma cannot match part of a name: the papers that pass come from the lexical index.
                papers = lexical.paper_ids(filters) if filters.needs_papers else None
                where = filters.to_where(papers)
                hits = chroma.nearest(vector, n, where)
        trace.timings["dense"] = time.perf_counter() - clock
        return hits

    def lexical(
        self, query: str, n: int, filters: SearchFilters, trace: RetrievalTrace
    ) -> list[tuple[str, float]]:
        """Top ``n`` chunks by BM25."""
        clock = time.perf_counter()
        hits = self.index.lexical.search(query, n, None if filters.empty else filters)
        trace.timings["lexical"] = time.perf_counter() - clock
        return hits

    def _papers(self) -> _PaperChunks:
        """What cross-language search reads off the lexical index (every chunk id, each paper's
        content hash and first chunk), read once per published generation, not per question."""
        lexical = self.index.lexical
        seen = self._paper_chunks
        if seen is not None and seen.serves(lexical):
            return seen
        with self._paper_chunks_lock:  # one thread reads the index; the others reuse it
            seen = self._paper_chunks
            if seen is None or not seen.serves(lexical):
                seen = self._paper_chunks = _PaperChunks.read(lexical)
            return seen

    def crosslingual(
        self, question: str, n: int, filters: SearchFilters, trace: RetrievalTrace
    ) -> list[tuple[str, float]] | None:
        """Top ``n`` papers for a question in another language by the multilingual encoder, as
        ``(chunk id, cosine)`` with each paper's first chunk standing for it; ``None`` where
        cross-language search is off or cannot run. Papers without a vector yet (the first
        such question, or papers ingested since) are encoded first."""
        store = self.index.crosslingual
        if store is None:
            return None
        clock = time.perf_counter()
        papers = self._papers()
        todo = store.missing(papers.current)
        if todo:
            log.info("encoding papers for cross-language search (once per paper text)")
            store.update(papers.current, self.index.papers.get, missing=todo)
        if filters.empty:
            first = papers.first
        else:
            keep = papers.lexical.passing(papers.ordered, filters)
            first = _first_chunks(c for c in papers.ordered if c in keep)
        ranked = store.rank(question, n, among=set(first))
        trace.timings["crosslingual"] = time.perf_counter() - clock
        return [(first[pid], score) for pid, score in ranked]

    def crosslingual_pending(self) -> int:
        """How many papers cross-language search must encode before it can rank (0 when it is
        off or up to date)."""
        store = self.index.crosslingual
        return len(store.missing(self._papers().current)) if store is not None else 0

    def search(
        self,
        query: str,
        k: int | None = None,
        *,
        mode: Mode | None = None,
        filters: SearchFilters | None = None,
        trace: RetrievalTrace | None = None,
        topic: str | None = None,
        foreign: str | None = None,
    ) -> list[SearchResult]:
        """The ``k`` best papers for ``query``, each with its best chunks; ``topic`` (default
        ``query``) is what the lexical index matches (see :func:`.query.lexical_query`).

        ``foreign``: the question in another language. Where cross-language search runs, its
        multilingual ranking takes the place of the dense one (the index's model reads English
        only) and is fused with the lexical ranking of ``topic``/``query`` (names and English
        words the question contains)."""
        k = k or self.settings.k
        mode = mode or self.settings.mode
        filters = filters or SearchFilters()
        trace = trace or RetrievalTrace()
        n = max(self.settings.candidates, k * 4)
        across = self.crosslingual(foreign, n, filters, trace) if foreign else None
        if across is not None:
            dense, mode = across, "hybrid"
        else:
            dense = self.dense(query, n, filters, trace) if mode != "lexical" else []
        lexical = self.lexical(topic or query, n, filters, trace) if mode != "dense" else []
        clock = time.perf_counter()
        rankings = [[c for c, _ in ranked] for ranked in (dense, lexical) if ranked]
        fused = reciprocal_rank_fusion(rankings, self.settings.rrf_k)
        dense_scores = dict(dense)
        lexical_scores = dict(lexical)
        # Paper-level ranking: a paper's score is its best chunk's fused score.
        by_paper: dict[str, list[str]] = {}
        for chunk in sorted(fused, key=fused.__getitem__, reverse=True):
            by_paper.setdefault(paper_of(chunk), []).append(chunk)
        papers = [(pid, chunks[: self.settings.chunks_per_paper]) for pid, chunks in by_paper.items()][:k]
        dense_ranks = _paper_ranks(dense)
        lexical_ranks = _paper_ranks(lexical)
        # Text and metadata only for the chunks that are returned (one Chroma read).
        stored = self.index.chroma.get([c for _, chunks in papers for c in chunks])
        trace.timings["fusion"] = time.perf_counter() - clock  # fusion, grouping and that read
        results: list[SearchResult] = []
        for pid, chunks in papers:
            chunks = [c for c in chunks if c in stored]  # deleted by a concurrent ingest
            if not chunks:
                continue
            hits = [
                ChunkHit(
                    chunk_id=c,
                    paper_id=pid,
                    text=stored[c][0],
                    score=fused[c],
                    dense_score=dense_scores.get(c),
                    lexical_score=lexical_scores.get(c),
                )
                for c in chunks
            ]
            meta = stored[chunks[0]][1]
            results.append(
                SearchResult(
                    paper_id=pid,
                    title=str(meta.get("title", "")),
                    score=fused[chunks[0]],
                    chunks=hits,
                    metadata=meta,
                    dense_rank=dense_ranks.get(pid),
                    lexical_rank=lexical_ranks.get(pid),
                )
            )
        return results


def _paper_ranks(ranked: list[tuple[str, float]]) -> dict[str, int]:
    """Paper id → its rank (from 1) in a best-first chunk ranking (a paper ranks by its best chunk)."""
    ranks: dict[str, int] = {}
    for chunk, _ in ranked:
        ranks.setdefault(paper_of(chunk), len(ranks) + 1)
    return ranks


def _chunk_order(chunk: str) -> tuple[str, int]:
    """Chunks of a paper in text order (``<paper>:<hash>:<n>``)."""
    head, _, n = chunk.rpartition(":")
    return head, int(n) if n.isdigit() else 0
