"""The ingest stamp ("generation"): how Chroma and the BM25 index derived from it stay in step.

This module is the one place that knows the protocol:

* The Chroma collection's metadata key :data:`GENERATION_KEY` holds the stamp of the last
  completed write (an ingest or a deletion), or ``dirty-<id>`` while one is under way; a killed
  writer leaves it dirty.
* The lexical index records the stamp it was published for: the bm25s backend publishes each
  build as the folder ``gen-<stamp>`` named by the file ``CURRENT``; the Tantivy backend writes
  the file ``tantivy/STAMP`` after each commit (:mod:`rag.index.lexical`).
* While a write is under way, the ingest journal (:mod:`rag.index.journal`) lists the chunks
  whose lexical entries may lag behind Chroma, so an incremental backend re-syncs just those
  after a kill.
* A reader serves the published BM25 index only when its stamp equals the collection's; if
  they differ (a write finished elsewhere, or a kill left the collection dirty) it repairs the
  lexical index under the index lock (from the journal, or rebuilt from Chroma) and stamps the
  collection with the result.

Only :class:`rag.index.vector_store.ChromaStore` reads and writes the collection's stamp; only
the lexical backends write ``CURRENT`` and ``STAMP``.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

GENERATION_KEY = "scholium_generation"
DIRTY_PREFIX = "dirty-"
POINTER = "CURRENT"
FOLDER_PREFIX = "gen-"
STAMP_FILE = "STAMP"
TANTIVY_FOLDER = "tantivy"


def new_stamp() -> str:
    """A fresh stamp for a completed write."""
    return uuid.uuid4().hex


def dirty_stamp(note: str = "") -> str:
    """The stamp a writer sets before it changes chunks (``note`` says why, for the logs)."""
    return f"{DIRTY_PREFIX}{note + '-' if note else ''}{new_stamp()}"


def is_complete(stamp: str | None) -> bool:
    """Whether ``stamp`` marks a completed write (not missing, not dirty)."""
    return stamp is not None and not stamp.startswith(DIRTY_PREFIX)


def read_stamp(metadata: Mapping[str, Any] | None) -> str | None:
    """The stamp recorded in a collection's metadata, or ``None``."""
    value = (metadata or {}).get(GENERATION_KEY)
    return str(value) if value is not None else None


def with_stamp(metadata: Mapping[str, Any] | None, stamp: str) -> dict[str, Any]:
    """Collection metadata carrying ``stamp`` (without the ``hnsw:`` keys Chroma refuses to modify)."""
    out = {k: v for k, v in (metadata or {}).items() if not k.startswith("hnsw:")}
    out[GENERATION_KEY] = stamp
    return out


def folder_name(stamp: str) -> str:
    """The folder a BM25 build for ``stamp`` is published in."""
    return f"{FOLDER_PREFIX}{stamp}"


def published_stamp(index_dir: Path, backend: str = "bm25s") -> str | None:
    """The stamp of the published lexical index of ``backend``, or ``None`` if none is published."""
    if backend == "tantivy":
        return read_stamp_file(index_dir / TANTIVY_FOLDER)
    try:
        name = (index_dir / POINTER).read_text().strip()
    except OSError:
        return None
    return name.removeprefix(FOLDER_PREFIX) or None


def read_stamp_file(folder: Path) -> str | None:
    """The stamp in ``folder``'s ``STAMP`` file, or ``None``."""
    try:
        return (folder / STAMP_FILE).read_text().strip() or None
    except OSError:
        return None


def write_stamp_file(folder: Path, stamp: str) -> None:
    """Atomically (and durably) replace ``folder``'s ``STAMP`` file with ``stamp``."""
    replace_file(folder / STAMP_FILE, stamp)


def replace_file(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically and durably: a reader sees the old file or the
    new one, never a part, and a crash after this returns keeps the new one."""
    tmp = path.with_name(f".{path.name}.tmp")
    with tmp.open("w") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
