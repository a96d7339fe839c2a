"""The lexical (BM25) index over the same chunks as Chroma, behind one interface.

Two backends, chosen by ``retrieval.lexical_backend``:

* :mod:`.tantivy_index` (default): a Tantivy index on disk. Adding or removing papers touches
  only their documents (:meth:`LexicalIndex.apply`); a commit is atomic, so a killed write
  leaves the previous state readable; readers in other processes memory-map it and load
  nothing whole.
* :mod:`.bm25s_index`: bm25s sparse matrices, rebuilt from every chunk on each change and
  published as a new folder. Fastest to query on small collections; every reader loads its
  chunk list.

Both use :mod:`.analysis`'s tokenisation, so they match the same terms. Which stamp a
published index carries, and how it relates to Chroma's, is :mod:`rag.index.generation`'s
protocol.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol, runtime_checkable

from ..filters import SearchFilters
from ..ids import paper_of

Backend = Literal["tantivy", "bm25s"]

#: The chunk metadata fields a lexical index keeps for filtering.
FILTER_KEYS = ("paper_id", "sources", "year", "categories", "authors", "venue")


@dataclass(frozen=True)
class LexicalRow:
    """One chunk as the lexical index sees it: its id, the text to index, its filter fields."""

    chunk_id: str
    text: str
    meta: dict[str, Any]

    @classmethod
    def from_chunk(cls, chunk_id: str, document: str | None, metadata: dict[str, Any] | None) -> LexicalRow:
        """The row of a chunk stored in Chroma (its title is indexed with its text)."""
        meta = dict(metadata or {})
        row = {k: meta[k] for k in FILTER_KEYS if k in meta}
        row.setdefault("paper_id", paper_of(chunk_id))
        return cls(chunk_id, f"{meta.get('title', '')}\n{document or ''}", row)


class LexicalIndex(Protocol):
    """A published lexical index (one generation of it; see :mod:`rag.index.generation`)."""

    #: The ingest stamp this index was published for.
    stamp: str

    def search(self, query: str, k: int, filters: SearchFilters | None = None) -> list[tuple[str, float]]:
        """Top ``k`` ``(chunk id, BM25 score)`` pairs with a positive score, best first."""
        ...

    def passing(self, chunk_ids: Sequence[str], filters: SearchFilters) -> set[str]:
        """Which of ``chunk_ids`` pass ``filters``."""
        ...

    def paper_ids(self, filters: SearchFilters) -> list[str]:
        """Every paper with a chunk that passes ``filters``, sorted."""
        ...

    def sources(self) -> list[str]:
        """Every source file the indexed chunks come from, sorted."""
        ...

    def doc_freq(self, term: str) -> int:
        """How many chunks contain ``term`` (a stem, as :func:`analysis.terms` makes them)."""
        ...

    def chunk_ids(self) -> list[str]:
        """Every chunk id in the index (for checks and tests: reads the whole index)."""
        ...

    def __len__(self) -> int:
        """Number of chunks."""
        ...


@runtime_checkable
class IncrementalLexicalIndex(LexicalIndex, Protocol):
    """A lexical index that changes in place: only the given chunks are touched."""

    def apply(self, upsert: Iterable[LexicalRow], delete: Iterable[str], stamp: str) -> LexicalIndex:
        """Add or replace the ``upsert`` rows and remove the ``delete`` chunk ids in one atomic
        commit, publish it as ``stamp`` and return the new state (this object stays readable
        at its own stamp)."""
        ...


def build(backend: Backend, root: Path | None, rows: Iterable[LexicalRow], stamp: str) -> LexicalIndex:
    """A new index of ``rows``, published under ``root`` (``None``: in memory only)."""
    if backend == "tantivy":
        from .tantivy_index import TantivyIndex

        return TantivyIndex.build(root, rows, stamp)
    from .bm25s_index import Bm25sIndex

    return Bm25sIndex.build(root, rows, stamp)


def incremental(backend: Backend) -> bool:
    """Whether ``backend``'s index changes in place (:class:`IncrementalLexicalIndex`), so a
    write needs only its own chunks; otherwise every write rebuilds it from all chunks."""
    return backend == "tantivy"


def load(backend: Backend, root: Path) -> LexicalIndex | None:
    """The index published under ``root``, or ``None`` if there is none (or it is unreadable)."""
    if backend == "tantivy":
        from .tantivy_index import TantivyIndex

        return TantivyIndex.load(root)
    from .bm25s_index import Bm25sIndex

    return Bm25sIndex.load(root)


__all__ = [
    "FILTER_KEYS",
    "Backend",
    "IncrementalLexicalIndex",
    "LexicalIndex",
    "LexicalRow",
    "build",
    "incremental",
    "load",
]
