"""BM25 with bm25s (sparse matrices in memory), rebuilt whole on every change.

Each build is written to a fresh ``gen-<stamp>`` folder and published by atomically
replacing the ``CURRENT`` pointer, so a reader never sees a half-written index and a killed
build leaves the previous one in place (the stamp protocol: :mod:`rag.index.generation`).
Every reader loads the chunk ids and filter fields of all rows (the matrices are mmapped).
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import bm25s
import numpy as np

from ..filters import SearchFilters
from ..generation import FOLDER_PREFIX, POINTER, folder_name
from ..metadata import meta_list
from . import LexicalRow
from .analysis import tokenize


@dataclass
class Bm25sIndex:
    """A BM25 index, the chunk id of each row and the filter fields of each row."""

    retriever: bm25s.BM25
    ids: list[str]
    meta: list[dict[str, Any]]
    stamp: str
    _rows: dict[str, int] | None = field(default=None, init=False, repr=False)
    _masks: dict[Hashable, np.ndarray[Any, Any]] = field(default_factory=dict, init=False, repr=False)

    @classmethod
    def build(cls, root: Path | None, rows: Iterable[LexicalRow], stamp: str) -> Bm25sIndex:
        """Index ``rows`` and publish the result under ``root`` (``None``: in memory only)."""
        ids: list[str] = []
        texts: list[str] = []
        meta: list[dict[str, Any]] = []
        for row in rows:
            ids.append(row.chunk_id)
            texts.append(row.text)
            meta.append(row.meta)
        retriever = bm25s.BM25()
        if texts:
            retriever.index(tokenize(texts), show_progress=False)
        index = cls(retriever, ids, meta, stamp)
        if root is not None:
            index._save(root)
        return index

    def __len__(self) -> int:
        return len(self.ids)

    def chunk_ids(self) -> list[str]:
        """Every chunk id in the index."""
        return list(self.ids)

    def meta_of(self, chunk_id: str) -> dict[str, Any]:
        """The filter fields of a chunk (empty if it is not in this index)."""
        if self._rows is None:
            self._rows = {c: i for i, c in enumerate(self.ids)}
        row = self._rows.get(chunk_id)
        return self.meta[row] if row is not None else {}

    def mask(self, filters: SearchFilters) -> np.ndarray[Any, Any]:
        """A 0/1 weight per row (whether it passes ``filters``), cached for this generation."""
        cached = self._masks.get(filters)
        if cached is None:
            cached = np.fromiter(
                (filters.matches(m) for m in self.meta), dtype=np.float32, count=len(self.meta)
            )
            if len(self._masks) >= 32:
                self._masks.pop(next(iter(self._masks)))
            self._masks[filters] = cached
        return cached

    def passing(self, chunk_ids: Sequence[str], filters: SearchFilters) -> set[str]:
        """Which of ``chunk_ids`` pass ``filters``."""
        return {c for c in chunk_ids if filters.matches(self.meta_of(c))}

    def sources(self) -> list[str]:
        """Every source file of the indexed chunks, sorted."""
        return sorted({s for m in self.meta for s in meta_list(m, "sources")})

    def doc_freq(self, term: str) -> int:
        """How many chunks contain the stem ``term`` (the length of its column in the score
        matrix, which bm25s stores term by term)."""
        column = self.retriever.vocab_dict.get(term) if term and self.ids else None
        indptr = self.retriever.scores.get("indptr") if column is not None else None
        if column is None or indptr is None or column + 1 >= len(indptr):
            return 0
        return int(indptr[column + 1] - indptr[column])

    def paper_ids(self, filters: SearchFilters) -> list[str]:
        """Every paper with a chunk that passes ``filters``."""
        rows = np.flatnonzero(self.mask(filters))
        return sorted({str(self.meta[i].get("paper_id")) for i in rows})

    def search(self, query: str, k: int, filters: SearchFilters | None = None) -> list[tuple[str, float]]:
        """Top ``k`` ``(chunk_id, bm25 score)`` pairs with a positive score."""
        if not self.ids:
            return []
        tokens = tokenize([query])
        if not tokens.vocab:
            return []
        mask = None if filters is None or filters.empty else self.mask(filters)
        k = min(k, len(self.ids))
        docs, scores = self.retriever.retrieve(
            tokens, k=k, show_progress=False, n_threads=0, weight_mask=mask
        )
        return [(self.ids[int(d)], float(s)) for d, s in zip(docs[0], scores[0], strict=True) if s > 0]

    def _save(self, root: Path) -> None:
        """Write a new generation folder and point ``CURRENT`` at it."""
        root.mkdir(parents=True, exist_ok=True)
        folder = root / folder_name(self.stamp)
        tmp = root / f".tmp-{self.stamp}"
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir()
        if self.ids:
            self.retriever.save(str(tmp))
        (tmp / "chunks.json").write_text(json.dumps({"ids": self.ids, "meta": self.meta}))
        _fsync_dir(tmp)
        os.replace(tmp, folder)
        pointer = root / f".{POINTER}.tmp"
        pointer.write_text(folder.name)
        os.replace(pointer, root / POINTER)
        for old in root.glob(f"{FOLDER_PREFIX}*"):
            if old.name != folder.name:
                shutil.rmtree(old, ignore_errors=True)

    @classmethod
    def load(cls, root: Path) -> Bm25sIndex | None:
        """The published index, or ``None`` if there is none (or it is unreadable)."""
        try:
            name = (root / POINTER).read_text().strip()
            folder = root / name
            data = json.loads((folder / "chunks.json").read_text())
            ids: list[str] = data["ids"]
            retriever = bm25s.BM25.load(str(folder), mmap=True) if ids else bm25s.BM25()
        except (OSError, ValueError, KeyError):
            return None
        return cls(retriever, ids, data["meta"], name.removeprefix(FOLDER_PREFIX))


def _fsync_dir(folder: Path) -> None:
    for path in folder.iterdir():
        with path.open("rb") as handle:
            os.fsync(handle.fileno())
