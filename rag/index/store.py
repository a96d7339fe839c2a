"""The index as one object: Chroma chunks + the BM25 index derived from them + the
embedding model. Opening it repairs a lexical index left stale by an interrupted ingest.

With a ``chroma run`` server, other processes write the same collection: the ingest stamp is
re-read from the server (at most every ``GENERATION_RECHECK_S``) so a long-running reader picks up
their BM25 generation, and failures of the server are reported as ``VectorStoreUnavailable``
(see :meth:`ScholiumIndex.guard`) instead of raw HTTP errors.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from functools import cached_property
from types import TracebackType

import httpx
from chromadb.errors import InternalError, NotFoundError

from ..embeddings import Embedder, build_embed_model
from ..embeddings.multilingual import shared_encoder
from ..settings import Settings
from . import journal, vector_store
from .crosslingual import CrossLingualPapers
from .generation import dirty_stamp, is_complete, new_stamp, published_stamp
from .lexical import Backend, IncrementalLexicalIndex, LexicalIndex, LexicalRow, incremental
from .lexical import build as build_lexical
from .lexical import load as load_lexical
from .lock import IndexBusy, index_lock
from .papers import PaperStore
from .vector_store import ChromaStore, VectorStoreUnavailable

log = logging.getLogger(__name__)
# Server mode: how often a reader re-reads the collection's ingest stamp from the server.
GENERATION_RECHECK_S = 2.0


class CollectionReplaced(VectorStoreUnavailable):
    """The collection this index had open was deleted or re-created on the Chroma server."""


def _raised_in_chroma(exc: BaseException) -> bool:
    """Whether ``exc`` came out of the Chroma client (not, say, the LLM's HTTP client)."""
    tb: TracebackType | None = exc.__traceback__
    while tb is not None:
        module = str(tb.tb_frame.f_globals.get("__name__", ""))
        if module.startswith(("chromadb", "llama_index.vector_stores.chroma")):
            return True
        tb = tb.tb_next
    return isinstance(exc, NotFoundError)


class ScholiumIndex:
    """Opened lazily: Chroma on first use, the embedding model on first embed."""

    def __init__(self, settings: Settings, embed_model: Embedder | None = None) -> None:
        self.settings = settings
        self._embed_model = embed_model
        self._lexical: LexicalIndex | None = None
        self._lexical_for: str | None = None  # the generation ``_lexical`` was chosen for
        self._lexical_lock = threading.Lock()
        self._generation_read = 0.0

    @cached_property
    def chroma(self) -> ChromaStore:
        """The Chroma collection of chunks."""
        store = ChromaStore(self.settings)
        self._generation_read = time.monotonic()
        return store

    @property
    def server_mode(self) -> bool:
        """Whether Chroma is a ``chroma run`` server (shared with other processes)."""
        return bool(self.settings.chroma.url)

    def reopen_chroma(self) -> None:
        """Forget the open collection: the next use reconnects and opens it afresh."""
        self.__dict__.pop("chroma", None)

    def refresh_generation(self, *, force: bool = False) -> None:
        """Server mode: re-read the collection (its ingest stamp) from the server, at most every
        ``GENERATION_RECHECK_S`` unless ``force``; another process may have ingested since.

        Reopens the collection if it was deleted or re-created there.
        """
        if not self.server_mode or "chroma" not in self.__dict__:
            return
        now = time.monotonic()
        if not force and now - self._generation_read < GENERATION_RECHECK_S:
            return
        self._generation_read = now
        if not self.chroma.reload():
            log.warning("the Chroma collection was replaced on the server; reopening it")
            self.reopen_chroma()

    @contextmanager
    def guard(self) -> Iterator[None]:
        """Report failures of the Chroma server as ``VectorStoreUnavailable`` with a clear
        message (the next request reconnects by itself); a collection that vanished from the
        server is reopened on next use and reported as ``CollectionReplaced``."""
        try:
            yield
        except VectorStoreUnavailable:
            raise
        except Exception as exc:
            known = (httpx.TransportError, httpx.HTTPStatusError, NotFoundError, InternalError)
            if not self.server_mode or not isinstance(exc, known) or not _raised_in_chroma(exc):
                raise
            url = self.settings.chroma.url
            if isinstance(exc, NotFoundError):
                self.reopen_chroma()
                raise CollectionReplaced(
                    f"the collection {self.settings.chroma.collection!r} is gone from the Chroma "
                    f"server at {url} (deleted or re-created); it is reopened on the next request"
                ) from exc
            if isinstance(exc, httpx.TimeoutException):
                raise VectorStoreUnavailable(
                    f"the Chroma server at {url} did not answer within "
                    f"{vector_store.CHROMA_HTTP_TIMEOUT_S:g} s "
                    f"({type(exc).__name__}) — is it overloaded or stopped?"
                ) from exc
            if isinstance(exc, httpx.TransportError):
                raise VectorStoreUnavailable(
                    f"lost the connection to the Chroma server at {url} ({type(exc).__name__}: {exc}) "
                    "— is `chroma run` up? Scholium reconnects on the next request."
                ) from exc
            raise VectorStoreUnavailable(
                f"the Chroma server at {url} failed: {type(exc).__name__}: {exc}"
            ) from exc

    @cached_property
    def papers(self) -> PaperStore:
        """Whole paper records (for display and citations)."""
        return PaperStore(self.settings.index_dir / "papers.sqlite")

    @cached_property
    def crosslingual(self) -> CrossLingualPapers | None:
        """Paper vectors for questions in other languages (``retrieval.crosslingual``), or
        ``None`` when that is off or the multilingual encoder cannot run here (logged once)."""
        if not self.settings.retrieval.crosslingual:
            return None
        encoder = shared_encoder(self.settings.embed.threads)
        return CrossLingualPapers(self.settings.index_dir, encoder) if encoder else None

    @property
    def embed_model(self) -> Embedder:
        """The embedding model (loaded on first use)."""
        if self._embed_model is None:
            self._embed_model = build_embed_model(self.settings.embed)
        return self._embed_model

    @property
    def lexical(self) -> LexicalIndex:
        """The lexical (BM25) index, repaired if it does not match the collection.

        Thread-safe. While another process ingests (the collection is stamped ``dirty-…``),
        the published index is served as it is, loaded once (not once per query), until the
        new generation lands.
        """
        self.refresh_generation()
        generation = self.chroma.generation
        current = self._lexical
        if current is not None and self._serves(current, generation):
            return current
        with self._lexical_lock:  # one thread loads or repairs; the others then reuse it
            generation = self.chroma.generation
            current = self._lexical
            if current is not None and self._serves(current, generation):
                return current
            loaded = load_lexical(self.lexical_backend, self.settings.index_dir)
            if loaded is not None and generation is not None and loaded.stamp == generation:
                self._lexical, self._lexical_for = loaded, generation
                return loaded
            try:
                with index_lock(self.settings.index_dir):
                    if generation is not None and not is_complete(generation):
                        log.warning("the last ingest did not finish; run `scholium ingest` to complete it")
                    self._lexical = self.publish_lexical()
                    self._lexical_for = self._lexical.stamp
            except IndexBusy:
                # An ingest is writing right now: serve what is published (or an in-memory
                # build) and pick up the new generation when it lands.
                self._lexical = (
                    loaded or current or build_lexical(self.lexical_backend, None, self._rows(), new_stamp())
                )
                self._lexical_for = generation
            return self._lexical

    @property
    def lexical_backend(self) -> Backend:
        """Which lexical engine this index uses (``retrieval.lexical_backend``)."""
        return self.settings.retrieval.lexical_backend

    def _serves(self, index: LexicalIndex, generation: str | None) -> bool:
        """Whether ``index`` is the one to use for the collection's ``generation``."""
        return generation is not None and generation in (index.stamp, self._lexical_for)

    def begin_write(self, chunk_ids: Iterable[str], note: str = "") -> None:
        """Before changing ``chunk_ids`` in Chroma: journal them and stamp the collection dirty.

        The caller holds the index lock and finishes with :meth:`publish_lexical`.
        """
        generation = self.chroma.generation
        published = published_stamp(self.settings.index_dir, self.lexical_backend)
        dirty = dirty_stamp(note)
        journal.begin(
            self.settings.index_dir,
            generation=generation,
            published=published,
            dirty=dirty,
            chunk_ids=chunk_ids,
        )
        self.chroma.set_generation(dirty)

    def publish_lexical(self, known: Mapping[str, LexicalRow] | None = None) -> LexicalIndex:
        """Bring the lexical index in line with Chroma, publish it and stamp the collection.

        An incremental backend re-syncs only the chunks the journal lists, when the journal
        covers the gap (:meth:`rag.index.journal.Journal.covers`); otherwise the index is
        rebuilt from every chunk in Chroma. ``known``: rows the caller just wrote to Chroma
        (an ingest's chunks), used instead of reading them back. The caller holds the index lock.
        """
        root = self.settings.index_dir
        backend = self.lexical_backend
        generation = self.chroma.generation
        pending = journal.read(root)
        # Only a journal that covers the gap is worth opening the published index for.
        covered = (
            pending is not None
            and incremental(backend)
            and pending.covers(generation, published_stamp(root, backend))
        )
        published = load_lexical(backend, root) if covered else None
        if pending is not None:
            stamp = pending.target
        elif generation is not None and is_complete(generation):
            stamp = generation
        else:
            stamp = new_stamp()
        if isinstance(published, IncrementalLexicalIndex) and pending is not None:
            ids = list(pending.chunk_ids)
            known = known or {}
            stored = self.chroma.get([c for c in ids if c not in known])
            rows = [
                known[c] if c in known else LexicalRow.from_chunk(c, *stored[c])
                for c in ids
                if c in known or c in stored
            ]
            index = published.apply(rows, [c for c in ids if c not in known and c not in stored], stamp)
            log.info("lexical index: %d chunks re-synced from the journal", len(ids))
        else:
            index = build_lexical(backend, root, self._rows(), stamp)
            log.info("lexical index rebuilt from Chroma: %d chunks", len(index))
        if generation != stamp:
            self.chroma.set_generation(stamp)
        journal.clear(root)
        self._lexical = index
        return index

    def _rows(self) -> Iterator[LexicalRow]:
        """Every chunk in Chroma as a lexical row."""
        for page_ids, docs, metas in self.chroma.iter_documents():
            for chunk, doc, meta in zip(page_ids, docs, metas, strict=True):
                yield LexicalRow.from_chunk(chunk, doc, meta)

    def forget_lexical(self) -> None:
        """Drop the in-memory BM25 index so the next use reloads it."""
        self._lexical = None
        self._lexical_for = None
