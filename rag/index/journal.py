"""The ingest journal: which chunks' lexical entries may lag behind Chroma during a write.

A writer records the chunk ids it is about to add, relabel or delete *before* it changes
Chroma, and removes the journal once the lexical index and the collection carry the same new
stamp. After a kill, an incremental lexical backend re-syncs just those chunks (each one to
what Chroma now holds: present → (re)indexed, absent → removed), instead of rebuilding from
every chunk. The journal is trusted only while the collection still carries the dirty stamp
(or the target stamp) it names and the lexical index is at its base (or target); anything else
means another writer or a repair intervened, and the lexical index is rebuilt from Chroma.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path

from .generation import is_complete, new_stamp, replace_file

JOURNAL = "PENDING.json"


@dataclass(frozen=True)
class Journal:
    """Changes under way: on top of lexical state ``base``, to be published as ``target``."""

    base: str | None  # the lexical stamp the listed chunks lag from (None: unknown, rebuild)
    dirty: str  # the collection's stamp while the write is under way
    target: str  # the stamp the finished write publishes
    chunk_ids: tuple[str, ...]

    def covers(self, generation: str | None, published: str | None) -> bool:
        """Whether re-syncing :attr:`chunk_ids` brings a lexical index at ``published`` in line
        with a collection at ``generation``."""
        return (
            self.base is not None
            and generation in (self.dirty, self.target)
            and published in (self.base, self.target)
        )


def read(index_dir: Path) -> Journal | None:
    """The journal left by an unfinished write, or ``None``."""
    try:
        data = json.loads((index_dir / JOURNAL).read_text())
        return Journal(data["base"], data["dirty"], data["target"], tuple(data["chunk_ids"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def begin(
    index_dir: Path, *, generation: str | None, published: str | None, dirty: str, chunk_ids: Iterable[str]
) -> Journal:
    """Record a write that is about to stamp the collection ``dirty`` and change ``chunk_ids``.

    ``generation`` is the collection's stamp before this write and ``published`` the lexical
    index's. A journal left by a killed write (the collection still carries its dirty stamp) is
    extended: its chunks still lag too.
    """
    old = read(index_dir)
    ids = dict.fromkeys(chunk_ids)
    if old is not None and generation == old.dirty:
        journal = Journal(old.base, dirty, old.target, tuple({**dict.fromkeys(old.chunk_ids), **ids}))
    else:
        base = published if is_complete(generation) and published == generation else None
        journal = Journal(base, dirty, new_stamp(), tuple(ids))
    index_dir.mkdir(parents=True, exist_ok=True)
    replace_file(index_dir / JOURNAL, json.dumps({**asdict(journal), "chunk_ids": list(journal.chunk_ids)}))
    return journal


def clear(index_dir: Path) -> None:
    """Remove the journal (the write it described is published)."""
    (index_dir / JOURNAL).unlink(missing_ok=True)
