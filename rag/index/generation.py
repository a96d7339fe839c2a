"""The ingest stamp ("generation"): how Chroma and the BM25 index derived from it stay in step.

This module is the one place that knows the protocol:

* The Chroma collection's metadata key :data:`GENERATION_KEY` holds the stamp of the last
  completed write (an ingest or a deletion), or ``dirty-<id>`` while one is under way; a killed
  writer leaves it dirty.
* Each BM25 build is published as the folder ``gen-<stamp>`` under the index folder, named by
  the file ``CURRENT`` (see :meth:`rag.index.lexical.LexicalIndex.save`).
* A reader serves the published BM25 index only when its stamp equals the collection's; if
  they differ (a write finished elsewhere, or a kill left the collection dirty) it rebuilds BM25
  from Chroma under the index lock and stamps the collection with the new build.

Only :class:`rag.index.vector_store.ChromaStore` reads and writes the collection's stamp; only
:class:`rag.index.lexical.LexicalIndex` writes ``CURRENT``.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

GENERATION_KEY = "scholium_generation"
DIRTY_PREFIX = "dirty-"
POINTER = "CURRENT"
FOLDER_PREFIX = "gen-"


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


def published_stamp(index_dir: Path) -> str | None:
    """The stamp of the BM25 build ``CURRENT`` points at, or ``None`` if none is published."""
    try:
        name = (index_dir / POINTER).read_text().strip()
    except OSError:
        return None
    return name.removeprefix(FOLDER_PREFIX) or None
