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
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cached_property
from types import TracebackType
from typing import Any

import httpx
from chromadb.errors import InternalError, NotFoundError

from ..embeddings import Embedder, build_embed_model
from ..settings import Settings
from . import vector_store
from .generation import is_complete, new_stamp
from .ids import paper_of
from .lexical import LexicalIndex
from .lock import IndexBusy, index_lock
from .papers import PaperStore
from .vector_store import ChromaStore, VectorStoreUnavailable

log = logging.getLogger(__name__)
LEXICAL_META_KEYS = ("paper_id", "sources", "year", "categories", "authors", "venue")
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

    @property
    def embed_model(self) -> Embedder:
        """The embedding model (loaded on first use)."""
        if self._embed_model is None:
            self._embed_model = build_embed_model(self.settings.embed)
        return self._embed_model

    @property
    def lexical(self) -> LexicalIndex:
        """The BM25 index, rebuilt from Chroma if it does not match the collection.

        Thread-safe. While another process ingests (the collection is stamped ``dirty-…``),
        the published index is served as it is, loaded once (not once per query), until the
        new generation lands.
        """
        self.refresh_generation()
        generation = self.chroma.generation
        current = self._lexical
        if current is not None and self._serves(current, generation):
            return current
        with self._lexical_lock:  # one thread loads or rebuilds; the others then reuse it
            generation = self.chroma.generation
            current = self._lexical
            if current is not None and self._serves(current, generation):
                return current
            loaded = LexicalIndex.load(self.settings.index_dir)
            if loaded is not None and generation is not None and loaded.stamp == generation:
                self._lexical, self._lexical_for = loaded, generation
                return loaded
            try:
                with index_lock(self.settings.index_dir):
                    if generation is not None and not is_complete(generation):
                        log.warning("the last ingest did not finish; run `scholium ingest` to complete it")
                    self._lexical = self.rebuild_lexical()
                    self._lexical_for = self._lexical.stamp
            except IndexBusy:
                # An ingest is writing right now: serve what is published (or an in-memory
                # build) and pick up the new generation when it lands.
                self._lexical = loaded or current or self._build_lexical(new_stamp())
                self._lexical_for = generation
            return self._lexical

    def _serves(self, index: LexicalIndex, generation: str | None) -> bool:
        """Whether ``index`` is the one to use for the collection's ``generation``."""
        return generation is not None and generation in (index.stamp, self._lexical_for)

    def rebuild_lexical(self, stamp: str | None = None) -> LexicalIndex:
        """Rebuild BM25 from the chunks in Chroma, publish it and stamp the collection.

        The caller holds the index lock.
        """
        current = self.chroma.generation
        stamp = stamp or (current if current is not None and is_complete(current) else new_stamp())
        index = self._build_lexical(stamp)
        index.save(self.settings.index_dir)
        if current != stamp:
            self.chroma.set_generation(stamp)
        self._lexical = index
        return index

    def _build_lexical(self, stamp: str) -> LexicalIndex:
        ids: list[str] = []
        texts: list[str] = []
        meta: list[dict[str, Any]] = []
        for page_ids, docs, metas in self.chroma.iter_documents():
            for chunk, doc, m in zip(page_ids, docs, metas, strict=True):
                m = dict(m or {})
                ids.append(chunk)
                texts.append(f"{m.get('title', '')}\n{doc or ''}")
                row = {k: m[k] for k in LEXICAL_META_KEYS if k in m}
                row.setdefault("paper_id", paper_of(chunk))
                meta.append(row)
        return LexicalIndex.build(ids, texts, meta, stamp)

    def forget_lexical(self) -> None:
        """Drop the in-memory BM25 index so the next use reloads it."""
        self._lexical = None
        self._lexical_for = None
