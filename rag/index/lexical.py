"""BM25 over the same chunks as Chroma (bm25s), persisted next to it.

Each build is written to a fresh ``gen-<stamp>`` folder and published by atomically
replacing the ``CURRENT`` pointer, so a reader never sees a half-written index and a killed
build leaves the previous one in place (the stamp protocol: :mod:`rag.index.generation`).
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import bm25s
import numpy as np
import Stemmer

from .generation import FOLDER_PREFIX, POINTER, folder_name

STOPWORDS = "en"
_stemmer = Stemmer.Stemmer("english")


def tokenize(texts: list[str]) -> Any:
    """bm25s tokens for ``texts`` (lower-cased, English stop words removed, stemmed)."""
    return bm25s.tokenize(texts, stopwords=STOPWORDS, stemmer=_stemmer, show_progress=False)


@dataclass
class LexicalIndex:
    """A BM25 index, the chunk id of each row and a few filterable fields per row."""

    retriever: bm25s.BM25
    chunk_ids: list[str]
    meta: list[dict[str, Any]]
    stamp: str
    _rows: dict[str, int] | None = field(default=None, init=False, repr=False)
    _masks: dict[Hashable, np.ndarray[Any, Any]] = field(default_factory=dict, init=False, repr=False)

    @classmethod
    def build(
        cls, chunk_ids: list[str], texts: list[str], meta: list[dict[str, Any]], stamp: str
    ) -> LexicalIndex:
        """Index ``texts`` (one per chunk)."""
        retriever = bm25s.BM25()
        if texts:
            retriever.index(tokenize(texts), show_progress=False)
        return cls(retriever, chunk_ids, meta, stamp)

    def meta_of(self, chunk_id: str) -> dict[str, Any]:
        """The filterable fields of a chunk (empty if it is not in this index)."""
        if self._rows is None:
            self._rows = {c: i for i, c in enumerate(self.chunk_ids)}
        row = self._rows.get(chunk_id)
        return self.meta[row] if row is not None else {}

    def mask(self, keep: Callable[[dict[str, Any]], bool], *, key: Hashable) -> np.ndarray[Any, Any]:
        """A 0/1 weight per row (``keep(meta)``), cached under ``key`` for this generation."""
        cached = self._masks.get(key)
        if cached is None:
            cached = np.fromiter((keep(m) for m in self.meta), dtype=np.float32, count=len(self.meta))
            if len(self._masks) >= 32:
                self._masks.pop(next(iter(self._masks)))
            self._masks[key] = cached
        return cached

    def search(self, query: str, k: int, mask: np.ndarray[Any, Any] | None = None) -> list[tuple[str, float]]:
        """Top ``k`` ``(chunk_id, bm25 score)`` pairs with a positive score."""
        if not self.chunk_ids:
            return []
        tokens = tokenize([query])
        if not tokens.vocab:
            return []
        k = min(k, len(self.chunk_ids))
        docs, scores = self.retriever.retrieve(
            tokens, k=k, show_progress=False, n_threads=0, weight_mask=mask
        )
        return [(self.chunk_ids[int(d)], float(s)) for d, s in zip(docs[0], scores[0], strict=True) if s > 0]

    def save(self, root: Path) -> None:
        """Write a new generation folder and point ``CURRENT`` at it."""
        root.mkdir(parents=True, exist_ok=True)
        folder = root / folder_name(self.stamp)
        tmp = root / f".tmp-{self.stamp}"
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir()
        if self.chunk_ids:
            self.retriever.save(str(tmp))
        (tmp / "chunks.json").write_text(json.dumps({"ids": self.chunk_ids, "meta": self.meta}))
        _fsync_dir(tmp)
        os.replace(tmp, folder)
        pointer = root / f".{POINTER}.tmp"
        pointer.write_text(folder.name)
        os.replace(pointer, root / POINTER)
        for old in root.glob(f"{FOLDER_PREFIX}*"):
            if old.name != folder.name:
                shutil.rmtree(old, ignore_errors=True)

    @classmethod
    def load(cls, root: Path) -> LexicalIndex | None:
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
