"""The public entry point: ``Assistant`` ties the index, retrieval and answering together."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .answer import AnswerMode, AnswerPipeline
from .answer.language import names_nothing_readable
from .index.store import CollectionReplaced, ScholiumIndex
from .retrieve import HybridRetriever, Mode, RetrievalTrace, SearchFilters
from .settings import Settings
from .types import Answer, AnswerEvent, CollectionSummary, FinalAnswer, Paper, SearchResult, StatusEvent

if TYPE_CHECKING:
    from .index.ingest import IngestReport

log = logging.getLogger(__name__)


class Assistant:
    """Question answering over a corpus of abstracts, with citations.

    ``Assistant()`` with no arguments uses the bundled corpus: the index is built on first use
    (with a progress bar) and loaded afterwards.

    One instance serves many threads at once. With a ``chroma run`` server (``chroma.url``), a
    server that is down, hung or restarted makes the calls raise ``VectorStoreUnavailable``
    with a clear message instead of an HTTP error; the same instance works again once the
    server is back, and picks up papers that other processes ingest meanwhile.
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
                from .index.ingest import ingest  # chunking imports llama-index: only when writing

                ingest(self.index)
            self._checked = True

    def ingest(self, paths: list[Path] | None = None, *, prune: bool = False) -> IngestReport:
        """Add (or update) the papers under ``paths`` (default: the configured corpus)."""
        from .index.ingest import ingest

        with self.index.guard():
            report = ingest(self.index, paths, prune=prune)
        self._checked = True
        return report

    def prepare_crosslingual(self) -> int:
        """Encode now, with a progress bar, the papers cross-language search would encode on the
        first question in another language (``retrieval.crosslingual``); return how many were
        encoded (0 when up to date). Raises ``RuntimeError`` where the multilingual encoder
        cannot run."""
        from .embeddings.multilingual import unavailable_reason
        from .index.crosslingual import current_papers, encode_all

        with self.index.guard():
            self._ensure_index()
            store = self.index.crosslingual
            if store is None:
                reason = unavailable_reason() or "retrieval.crosslingual is off"
                raise RuntimeError(f"cross-language search is unavailable: {reason}")
            current = current_papers(self.index.lexical.chunk_ids())
            return encode_all(store, current, self.index.papers.get, self.settings.progress)

    def delete(self, paper_ids: list[str]) -> int:
        """Remove papers from the index; returns the number of chunks removed."""
        from .index.ingest import delete_papers

        with self.index.guard():
            return delete_papers(self.index, paper_ids)

    def source_files(self) -> list[str]:
        """Names of the corpus files the indexed papers came from (usable as a filter)."""
        with self.index.guard():
            self._ensure_index()
            return self.index.lexical.sources()

    def summary(self) -> CollectionSummary:
        """How many papers the index holds and from which source files (for headers)."""
        with self.index.guard():
            self._ensure_index()
            lexical = self.index.lexical  # in step with Chroma; aggregations, no chunk scan
            return CollectionSummary(len(lexical.paper_ids(SearchFilters())), tuple(lexical.sources()))

    def stats(self) -> dict[str, Any]:
        """Counts and locations of the index."""
        with self.index.guard():
            self.index.refresh_generation(force=True)
            chunks = self.index.chroma.count()
            generation = self.index.chroma.generation
            lexical = self.index.lexical
            papers, sources = lexical.paper_ids(SearchFilters()), lexical.sources()
        return {
            "papers": len(papers),
            "chunks": chunks,
            "source_files": len(sources),
            "collection": self.settings.chroma.collection,
            "chroma": self.settings.chroma.url or str(self.settings.chroma_path),
            "lexical_index": str(self.settings.index_dir),
            "generation": generation,
            "embed_model": self.settings.embed.model,
        }

    def papers(self, paper_ids: list[str]) -> dict[str, Paper]:
        """Whole paper records (title, abstract, urls, sources) by id."""
        with self.index.guard():
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

        ``mode`` is ``hybrid`` (default), ``dense`` or ``lexical``. A query in another language
        that names nothing the English search can match is searched across languages in
        ``hybrid`` mode (``retrieval.crosslingual``). Raises ``ValueError`` for an empty query.
        """
        query = query.strip()
        if not query:
            raise ValueError("the query is empty")
        hybrid = (mode or self.settings.retrieval.mode) == "hybrid"
        trace = RetrievalTrace()
        clock = time.perf_counter()

        def search_once() -> list[SearchResult]:
            with self.index.guard():
                self._ensure_index()
                # Reading the query's language looks its words up in the index (the server's
                # collection): inside the guard, so a hung server is reported like any other.
                readable = not hybrid or not names_nothing_readable(query, self.pipeline.known_word)
                return self.retriever.search(
                    query, k, mode=mode, filters=filters, trace=trace, foreign=None if readable else query
                )

        try:
            results = search_once()
        except CollectionReplaced as exc:  # reopened by the guard: try once more
            log.warning("%s; retrying", exc)
            results = search_once()
        trace.timings["retrieve_total"] = time.perf_counter() - clock
        if timings is not None:
            timings.update(trace.timings)
        return results

    # -- answering -----------------------------------------------------------------------
    def stream(
        self,
        question: str,
        *,
        history: Sequence[Mapping[str, Any]] | None = None,
        mode: AnswerMode | None = None,
        k: int | None = None,
        filters: SearchFilters | None = None,
    ) -> Iterator[AnswerEvent]:
        """Answer ``question`` as a stream of events: ``StatusEvent``s, ``TextDelta``s of the
        raw generated text, then one ``FinalAnswer`` whose checked text replaces the deltas.

        ``history`` holds earlier turns as OpenAI-style messages; an assistant message may carry
        ``paper_ids`` (see ``Answer.as_history``) so follow-ups resolve "it" to those papers.
        Raises ``QuestionError``
        (a ``ValueError``) for an empty or oversized question, ``VectorStoreUnavailable`` when
        the Chroma server cannot be used.
        """
        for attempt in (1, 2):
            answered = False  # anything beyond status events sent: never replay those
            try:
                with self.index.guard():
                    self._ensure_index()
                    for event in self.pipeline.run(question, history, mode=mode, k=k, filters=filters):
                        answered = answered or not isinstance(event, StatusEvent)
                        yield event
                return
            except CollectionReplaced as exc:  # reopened by the guard: try once more
                if answered or attempt == 2:
                    raise
                log.warning("%s; retrying", exc)

    def ask(
        self,
        question: str,
        *,
        history: Sequence[Mapping[str, Any]] | None = None,
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
        history: Sequence[Mapping[str, Any]] | None = None,
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
        history: Sequence[Mapping[str, Any]] | None = None,
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
