"""Chroma: an embedded PersistentClient by default, a ``chroma run`` server via HttpClient when
``chroma.url`` is set.

Chunks are written with ``collection.add`` (ids, text, flat metadata, vector). Older indexes
written through llama-index's ``ChromaVectorStore`` also carry its node JSON (``NODE_KEYS``);
it is stripped on read, and llama-index's store (:attr:`ChromaStore.store`, used by the
baseline retriever) still reads records without it.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

import chromadb
import numpy as np
from chromadb.api import ClientAPI
from chromadb.api.models.Collection import Collection
from chromadb.config import Settings as ChromaClientSettings

from ..settings import Settings
from .generation import dirty_stamp, read_stamp, with_stamp

if TYPE_CHECKING:
    from llama_index.vector_stores.chroma import ChromaVectorStore

log = logging.getLogger(__name__)
# Keys llama-index's ChromaVectorStore adds to each record's metadata (node JSON, document ids):
# present in indexes written before :meth:`ChromaStore.add`; never shown to callers.
NODE_KEYS = frozenset({"_node_content", "_node_type", "document_id", "doc_id", "ref_doc_id"})
# Chroma keeps SQLite statements under SQLite's variable limit only for bounded id lists.
ID_BATCH = 5000
#: HNSW search breadth. Chroma's default (100) returns slightly different neighbours from run to
#: run past rank ~25 of a 40-neighbour query (measured on the bundled index: the same question
#: got a different 4th paper in another process); at 400 the first 40 neighbours are the same in
#: every run, so the same question gets the same answer.
SEARCH_EF = 400


#: Seconds a Chroma server request may take (chromadb's HTTP client sets no timeout, so a hung
#: server would block a question forever).
CHROMA_HTTP_TIMEOUT_S = 30.0


def bound_http_timeout(client: ClientAPI, seconds: float | None = None) -> None:
    """Give an ``HttpClient``'s session a timeout (default ``CHROMA_HTTP_TIMEOUT_S``; chromadb
    exposes no setting for it)."""
    import httpx

    seconds = CHROMA_HTTP_TIMEOUT_S if seconds is None else seconds

    session = getattr(getattr(client, "_server", None), "_session", None)
    if isinstance(session, httpx.Client):
        session.timeout = httpx.Timeout(seconds, connect=min(seconds, 5.0))
    else:  # pragma: no cover - a chromadb release with another layout
        log.debug("cannot set a timeout on the Chroma HTTP client (%r)", type(session))


class VectorStoreUnavailable(RuntimeError):
    """Chroma could not be reached or opened; the message says which and how to fix it."""


def make_client(settings: Settings) -> ClientAPI:
    """A Chroma client for the configured mode."""
    client_settings = ChromaClientSettings(anonymized_telemetry=False)
    url = settings.chroma.url
    try:
        if url:
            parsed = urlparse(url if "://" in url else f"http://{url}")
            host = parsed.hostname or "127.0.0.1"
            port = parsed.port or (443 if parsed.scheme == "https" else 8000)
            # chromadb's client talks to the server while it is constructed, with no timeout:
            # ask for a heartbeat ourselves first, so a hung server fails fast and clearly.
            import httpx

            tls = parsed.scheme == "https"
            scheme = "https" if tls else "http"
            timeout = httpx.Timeout(CHROMA_HTTP_TIMEOUT_S, connect=min(CHROMA_HTTP_TIMEOUT_S, 5.0))
            # Plain http has no certificate to verify: without verify=False every HTTP client
            # loads the CA bundle anyway (~50 ms each, three per process: a third of the
            # client's start-up). https keeps full verification.
            heartbeat = f"{scheme}://{host}:{port}/api/v2/heartbeat"
            httpx.get(heartbeat, timeout=timeout, verify=tls).raise_for_status()
            if not tls:
                client_settings = ChromaClientSettings(
                    anonymized_telemetry=False, chroma_server_ssl_verify=False
                )
            client: ClientAPI = chromadb.HttpClient(host=host, port=port, ssl=tls, settings=client_settings)
            bound_http_timeout(client)
            return client
        path = settings.chroma_path
        path.mkdir(parents=True, exist_ok=True)
        return chromadb.PersistentClient(path=str(path), settings=client_settings)
    except Exception as exc:
        where = f"Chroma server at {url}" if url else f"embedded Chroma at {settings.chroma_path}"
        raise VectorStoreUnavailable(
            f"cannot open {where}: {type(exc).__name__}: {exc}" + (" — is `chroma run` up?" if url else "")
        ) from exc


class ChromaStore:
    """The chunk collection: llama-index's ChromaVectorStore plus the raw collection for
    bookkeeping (listing chunks, the ingest stamp of :mod:`rag.index.generation`).

    Nothing outside this class touches the Chroma collection object.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.client = make_client(settings)
        # embedding_function=None: never let Chroma's downloading default embedder run.
        self._collection: Collection = self._create()
        self._store: ChromaVectorStore | None = None
        self._store_for: Collection | None = None
        self._max_batch: int | None = None
        self._verify()
        self._widen_search()

    def _create(self) -> Collection:
        return self.client.get_or_create_collection(
            self.settings.chroma.collection,
            metadata={"hnsw:space": "cosine", "hnsw:search_ef": SEARCH_EF},
            embedding_function=None,
        )

    def _widen_search(self) -> None:
        """Raise an older collection's HNSW search breadth to :data:`SEARCH_EF` (embedded mode:
        a shared server's collection is left as its owner configured it)."""
        if self.settings.chroma.url:
            return
        try:
            hnsw = (self._collection.configuration or {}).get("hnsw") or {}
            if int(hnsw.get("ef_search") or 0) < SEARCH_EF:
                self._collection.modify(configuration={"hnsw": {"ef_search": SEARCH_EF}})
        except Exception as exc:  # chromadb raises various types; searching still works
            log.warning("could not widen the HNSW search (%s: %s)", type(exc).__name__, exc)

    def _verify(self) -> None:
        """Probe the vector segment once; rebuild it if a killed writer left it unreadable.

        Chroma keeps records in SQLite and the HNSW graph in files flushed later; a process
        killed around a flush can leave records whose graph cannot be loaded. The records
        (with their embeddings) are still readable, so the collection is rebuilt from them.
        """
        if self._collection.count() == 0:
            return
        try:
            dim = self.dimension() or 0
            probe = np.zeros((1, dim), dtype=np.float32)
            probe[0, 0] = 1.0
            self._collection.query(query_embeddings=probe, n_results=1)
        except Exception as exc:  # chromadb raises InternalError; its type is not public API
            if self.settings.chroma.url:
                # A server manages its own segments; an error here is the server being down or
                # hung, never a reason to delete and re-create the collection.
                raise VectorStoreUnavailable(
                    f"Chroma server at {self.settings.chroma.url} could not search collection "
                    f"{self.settings.chroma.collection!r}: {type(exc).__name__}: {exc}"
                ) from exc
            log.error("vector index is damaged (%s); rebuilding it from the stored records", exc)
            self._rebuild()

    def _rebuild(self) -> None:
        pages = []
        try:
            offset = 0
            while True:
                got = self._collection.get(
                    include=["embeddings", "documents", "metadatas"], limit=1000, offset=offset
                )
                if not got["ids"]:
                    break
                pages.append(got)
                offset += len(got["ids"])
        except Exception as exc:
            log.error("stored records unreadable too (%s); the collection will be re-ingested", exc)
            pages = []
        self.client.delete_collection(self.settings.chroma.collection)
        self._collection = self._create()
        for got in pages:
            self._collection.add(
                ids=got["ids"],
                embeddings=got["embeddings"],
                documents=got["documents"],
                metadatas=got["metadatas"],
            )
        # Force readers to rebuild the lexical index against what survived.
        self.mark_dirty("repaired")
        self._store = None

    @property
    def store(self) -> ChromaVectorStore:
        """llama-index's vector store over the collection (for llama-index's own retrievers,
        e.g. the baseline; imported on first use, which keeps llama-index out of a read-only
        process's start-up)."""
        if self._store is None or self._store_for is not self._collection:
            from llama_index.vector_stores.chroma import ChromaVectorStore

            self._store = ChromaVectorStore(chroma_collection=self._collection)
            self._store_for = self._collection
        return self._store

    def add(
        self,
        ids: Sequence[str],
        texts: Sequence[str],
        metadatas: Sequence[Mapping[str, Any]],
        vectors: Sequence[Sequence[float]],
    ) -> None:
        """Store chunks, one Chroma write per :attr:`max_batch` records (a write is atomic:
        after a kill all or none of its records are stored).

        The records are only what is read back: text, flat metadata and vector. llama-index's
        ``ChromaVectorStore.add`` also stored each node serialised as JSON in the metadata: its
        writes took 1.6x as long (bench/chroma_write.py) and its records ~12 kB of SQLite per
        chunk instead of ~5 kB (docs/scaling.md), for no reader.
        """
        for start in range(0, len(ids), self.max_batch):
            part = slice(start, start + self.max_batch)
            self._collection.add(
                ids=list(ids[part]),
                documents=list(texts[part]),
                metadatas=[dict(m) for m in metadatas[part]],  # type: ignore[misc]
                embeddings=np.asarray(vectors[part], dtype=np.float32),
            )

    @property
    def max_batch(self) -> int:
        """The most records Chroma accepts in one write (its SQLite variable limit)."""
        if self._max_batch is None:
            self._max_batch = int(self.client.get_max_batch_size())
        return self._max_batch

    def count(self) -> int:
        """Number of chunks stored."""
        return self._collection.count()

    def chunk_ids_of(self, paper_ids: Iterable[str], batch: int = ID_BATCH) -> list[str]:
        """The chunk ids of the given papers (a metadata lookup: its cost follows the number
        of papers asked about, not the size of the collection)."""
        wanted = sorted(set(paper_ids))
        out: list[str] = []
        for start in range(0, len(wanted), batch):
            part = wanted[start : start + batch]
            where: dict[str, Any] = {"paper_id": {"$in": part}} if len(part) > 1 else {"paper_id": part[0]}
            out.extend(self._collection.get(where=where, include=[])["ids"])  # type: ignore[dict-item]
        return out

    def chunk_ids(self, page: int = 20000) -> list[str]:
        """Every chunk id (ids only: much cheaper than reading metadata)."""
        out: list[str] = []
        offset = 0
        while True:
            got = self._collection.get(include=[], limit=page, offset=offset)
            out.extend(got["ids"])
            if len(got["ids"]) < page:
                return out
            offset += page

    def chunk_metadata(self, page: int = ID_BATCH) -> dict[str, dict[str, Any]]:
        """Every chunk id with its metadata (paged, so large collections stay bounded)."""
        out: dict[str, dict[str, Any]] = {}
        offset = 0
        while True:
            got = self._collection.get(include=["metadatas"], limit=page, offset=offset)
            ids = got["ids"]
            metas = got["metadatas"] or [{}] * len(ids)
            for chunk, meta in zip(ids, metas, strict=True):
                out[chunk] = _public(meta)
            if len(ids) < page:
                return out
            offset += page

    def iter_documents(self, page: int = ID_BATCH) -> Iterator[tuple[list[str], list[str], list[Any]]]:
        """Yield ``(ids, documents, metadatas)`` pages of the whole collection."""
        offset = 0
        while True:
            got = self._collection.get(include=["documents", "metadatas"], limit=page, offset=offset)
            yield got["ids"], list(got["documents"] or []), list(got["metadatas"] or [])
            if len(got["ids"]) < page:
                return
            offset += page

    def get(self, ids: list[str]) -> dict[str, tuple[str, dict[str, Any]]]:
        """Text and metadata of the given chunks (missing ids are left out)."""
        out: dict[str, tuple[str, dict[str, Any]]] = {}
        for start in range(0, len(ids), ID_BATCH):
            got = self._collection.get(ids=ids[start : start + ID_BATCH], include=["documents", "metadatas"])
            docs = got["documents"] or [""] * len(got["ids"])
            metas = got["metadatas"] or [{}] * len(got["ids"])
            for chunk, doc, meta in zip(got["ids"], docs, metas, strict=True):
                out[chunk] = (doc or "", _public(meta))
        return out

    def existing(self, ids: list[str]) -> set[str]:
        """Which of ``ids`` are stored."""
        found: set[str] = set()
        for start in range(0, len(ids), ID_BATCH):
            found.update(self._collection.get(ids=ids[start : start + ID_BATCH], include=[])["ids"])
        return found

    def nearest(
        self, vector: list[float], n: int, where: dict[str, Any] | None = None
    ) -> list[tuple[str, float]]:
        """The ``n`` chunks nearest to ``vector`` as ``(chunk id, similarity)``, best first.

        Asks Chroma for ids and distances only; text and metadata are fetched by the caller
        for the few chunks it keeps. Similarity is ``exp(-distance)``, as llama-index's
        ChromaVectorStore reports it (the relevance thresholds are calibrated on it).
        """
        if n <= 0:
            return []
        got = self._collection.query(
            query_embeddings=np.asarray([vector], dtype=np.float32),
            n_results=n,
            include=["distances"],
            where=where,
        )
        distances = (got["distances"] or [[]])[0]
        return [(chunk, math.exp(-float(d))) for chunk, d in zip(got["ids"][0], distances, strict=True)]

    def delete(self, ids: list[str], batch: int = ID_BATCH) -> None:
        """Delete chunks by id."""
        for start in range(0, len(ids), batch):
            self._collection.delete(ids=ids[start : start + batch])

    @property
    def generation(self) -> str | None:
        """Stamp of the last completed write ("dirty-…" while one is under way)."""
        return read_stamp(self._collection.metadata)

    def mark_dirty(self, note: str = "") -> None:
        """Record that a write is under way (before any chunk changes)."""
        self.set_generation(dirty_stamp(note))

    def set_generation(self, stamp: str) -> None:
        """Record ``stamp`` as the collection's ingest stamp."""
        self._collection.modify(metadata=with_stamp(self._collection.metadata, stamp))

    def reload(self) -> bool:
        """Re-read the collection (its current stamp) from the server; ``False`` if it was
        deleted or re-created there (then this store is stale and must be reopened)."""
        from chromadb.errors import NotFoundError

        try:
            fresh = self.client.get_collection(self.settings.chroma.collection, embedding_function=None)
        except NotFoundError:
            return False
        if fresh.id != self._collection.id:
            return False
        self._collection = fresh
        return True

    def relabel(self, ids: list[str], metadata: dict[str, Any]) -> None:
        """Give the chunks ``ids`` new metadata (same text and vectors)."""
        for start in range(0, len(ids), ID_BATCH):
            part = ids[start : start + ID_BATCH]
            self._collection.update(ids=part, metadatas=[metadata] * len(part))

    def dimension(self) -> int | None:
        """Length of the stored vectors, or ``None`` while the collection is empty."""
        stored = self._collection.get(limit=1, include=["embeddings"])["embeddings"]
        return len(stored[0]) if stored is not None and len(stored) else None


def _public(meta: Any) -> dict[str, Any]:
    """A record's metadata without llama-index's bookkeeping keys."""
    return {k: v for k, v in dict(meta or {}).items() if k not in NODE_KEYS}
