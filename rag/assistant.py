"""The public entry point: ``Assistant`` ties the index, retrieval and answering together."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

from .answer import AnswerMode, AnswerPipeline
from .index.ingest import IngestReport, delete_papers, ingest
from .index.store import ScholiumIndex
from .retrieve import HybridRetriever, Mode, RetrievalTrace, SearchFilters
from .settings import Settings
from .types import Answer, AnswerEvent, FinalAnswer, Paper, SearchResult

log = logging.getLogger(__name__)


class Assistant:
    """Question answering over a corpus of abstracts, with citations.

    ``Assistant()`` with no arguments uses the bundled corpus: the index is built on first use
    (with a progress bar) and loaded afterwards.
    """

    def __init__(
        self, settings: Settings | None = None, *, auto_ingest: bool = True, **overrides: Any
    ) -> None:
        base = settings or Settings()
        self.settings = base.with_overrides(**overrides) if overrides else base
        self.index = ScholiumIndex(self.settings)
        self.retriever = HybridRetriever(self.index)
        self.pipeline = AnswerPipeline(self.settings, self.index, self.retriever)
        self._auto_ingest = auto_ingest
        self._ready = threading.Lock()
        self._checked = False

    # -- index ---------------------------------------------------------------------------
    def _ensure_index(self) -> None:
        if self._checked:
            return
        with self._ready:
            if self._checked:
                return
            if self.index.chroma.count() == 0 and self._auto_ingest:
                log.warning("index is empty: ingesting %s", ", ".join(map(str, self.settings.corpus.paths)))
                ingest(self.index)
            self._checked = True

    def ingest(self, paths: list[Path] | None = None, *, prune: bool = False) -> IngestReport:
        """Add (or update) the papers under ``paths`` (default: the configured corpus)."""
        report = ingest(self.index, paths, prune=prune)
        self._checked = True
        return report

    def delete(self, paper_ids: list[str]) -> int:
        """Remove papers from the index; returns the number of chunks removed."""
        return delete_papers(self.index, paper_ids)

    def source_files(self) -> list[str]:
        """Names of the corpus files the indexed papers came from (usable as a filter)."""
        self._ensure_index()
        chunks = self.index.chroma.chunk_metadata()
        return sorted({s for m in chunks.values() for s in str(m.get("sources", "")).split("|") if s})

    def stats(self) -> dict[str, Any]:
        """Counts and locations of the index."""
        chunks = self.index.chroma.chunk_metadata()
        papers = {str(m.get("paper_id")) for m in chunks.values()}
        sources = {s for m in chunks.values() for s in str(m.get("sources", "")).split("|") if s}
        return {
            "papers": len(papers),
            "chunks": len(chunks),
            "source_files": len(sources),
            "collection": self.settings.chroma.collection,
            "chroma": self.settings.chroma.url or str(self.settings.chroma_path),
            "lexical_index": str(self.settings.index_dir),
            "generation": self.index.chroma.generation,
            "embed_model": self.settings.embed.model,
        }

    def papers(self, paper_ids: list[str]) -> dict[str, Paper]:
        """Whole paper records (title, abstract, urls, sources) by id."""
        self._ensure_index()
        return self.index.papers.get(paper_ids)

    # -- retrieval -----------------------------------------------------------------------
    def search(
        self,
        query: str,
        k: int | None = None,
        *,
        mode: Mode | None = None,
        filters: SearchFilters | None = None,
        timings: dict[str, float] | None = None,
    ) -> list[SearchResult]:
        """The ``k`` most relevant papers for ``query`` (one entry per paper, best chunks first).

        ``mode`` is ``hybrid`` (default), ``dense`` or ``lexical``. Raises ``ValueError`` for an
        empty query.
        """
        query = query.strip()
        if not query:
            raise ValueError("the query is empty")
        self._ensure_index()
        trace = RetrievalTrace()
        clock = time.perf_counter()
        results = self.retriever.search(query, k, mode=mode, filters=filters, trace=trace)
        trace.timings["retrieve_total"] = time.perf_counter() - clock
        if timings is not None:
            timings.update(trace.timings)
        return results

    # -- answering -----------------------------------------------------------------------
    def stream(
        self,
        question: str,
        *,
        history: list[dict[str, str]] | None = None,
        mode: AnswerMode | None = None,
        k: int | None = None,
        filters: SearchFilters | None = None,
    ) -> Iterator[AnswerEvent]:
        """Answer ``question`` as a stream of events: ``StatusEvent``s, ``TextDelta``s of the
        raw generated text, then one ``FinalAnswer`` whose checked text replaces the deltas.

        ``history`` holds earlier turns as OpenAI-style messages. Raises ``QuestionError``
        (a ``ValueError``) for an empty or oversized question.
        """
        self._ensure_index()
        yield from self.pipeline.run(question, history, mode=mode, k=k, filters=filters)

    def ask(
        self,
        question: str,
        *,
        history: list[dict[str, str]] | None = None,
        mode: AnswerMode | None = None,
        k: int | None = None,
        filters: SearchFilters | None = None,
    ) -> Answer:
        """Answer ``question`` with verified citations (or abstain). See :meth:`stream`."""
        for event in self.stream(question, history=history, mode=mode, k=k, filters=filters):
            if isinstance(event, FinalAnswer):
                return event.answer
        raise RuntimeError("the answering pipeline ended without an answer")  # pragma: no cover

    async def aask(
        self,
        question: str,
        *,
        history: list[dict[str, str]] | None = None,
        mode: AnswerMode | None = None,
        k: int | None = None,
        filters: SearchFilters | None = None,
    ) -> Answer:
        """Async :meth:`ask` (runs in a worker thread)."""
        return await asyncio.to_thread(self.ask, question, history=history, mode=mode, k=k, filters=filters)

    async def astream(
        self,
        question: str,
        *,
        history: list[dict[str, str]] | None = None,
        mode: AnswerMode | None = None,
        k: int | None = None,
        filters: SearchFilters | None = None,
    ) -> AsyncIterator[AnswerEvent]:
        """Async :meth:`stream`: events are produced in a worker thread and relayed."""
        events = self.stream(question, history=history, mode=mode, k=k, filters=filters)
        done = object()
        while True:
            event = await asyncio.to_thread(next, events, done)
            if event is done:
                return
            yield event  # type: ignore[misc]
