"""The index as one object: Chroma chunks + the BM25 index derived from them + the
embedding model. Opening it repairs a lexical index left stale by an interrupted ingest."""

from __future__ import annotations

import logging
import uuid
from functools import cached_property
from typing import Any

from llama_index.core.base.embeddings.base import BaseEmbedding

from ..embeddings import build_embed_model
from ..settings import Settings
from .chunking import paper_of
from .lexical import LexicalIndex
from .lock import IndexBusy, index_lock
from .papers import PaperStore
from .vector_store import ChromaStore

log = logging.getLogger(__name__)
LEXICAL_META_KEYS = ("paper_id", "sources", "year", "categories")


class ScholiumIndex:
    """Opened lazily: Chroma on first use, the embedding model on first embed."""

    def __init__(self, settings: Settings, embed_model: BaseEmbedding | None = None) -> None:
        self.settings = settings
        self._embed_model = embed_model
        self._lexical: LexicalIndex | None = None

    @cached_property
    def chroma(self) -> ChromaStore:
        """The Chroma collection of chunks."""
        return ChromaStore(self.settings)

    @cached_property
    def papers(self) -> PaperStore:
        """Whole paper records (for display and citations)."""
        return PaperStore(self.settings.index_dir / "papers.sqlite")

    @property
    def embed_model(self) -> BaseEmbedding:
        """The embedding model (loaded on first use)."""
        if self._embed_model is None:
            self._embed_model = build_embed_model(self.settings.embed)
        return self._embed_model

    @property
    def lexical(self) -> LexicalIndex:
        """The BM25 index, rebuilt from Chroma if it does not match the collection."""
        generation = self.chroma.generation
        if self._lexical is not None and self._lexical.stamp == generation:
            return self._lexical
        loaded = LexicalIndex.load(self.settings.index_dir)
        if loaded is not None and generation is not None and loaded.stamp == generation:
            self._lexical = loaded
            return loaded
        try:
            with index_lock(self.settings.index_dir):
                if generation and generation.startswith("dirty-"):
                    log.warning("the last ingest did not finish; run `scholium ingest` to complete it")
                self._lexical = self.rebuild_lexical()
        except IndexBusy:
            # An ingest is writing right now (server mode): serve what is published, or an
            # in-memory build, and pick up the new generation when it lands.
            self._lexical = loaded or self._build_lexical(uuid.uuid4().hex)
        return self._lexical

    def rebuild_lexical(self, stamp: str | None = None) -> LexicalIndex:
        """Rebuild BM25 from the chunks in Chroma, publish it and stamp the collection.

        The caller holds the index lock.
        """
        current = self.chroma.generation
        stamp = stamp or (current if current and not current.startswith("dirty-") else uuid.uuid4().hex)
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
