"""Full paper records (title, abstract, urls, sources) for display, in SQLite next to the
lexical index. Chroma holds chunks; this holds whole abstracts."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from pathlib import Path

from ..types import Paper

_SCHEMA = "CREATE TABLE IF NOT EXISTS papers (id TEXT PRIMARY KEY, record TEXT NOT NULL)"


class PaperStore:
    """Paper id → Paper."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        with self._connect() as db:
            db.execute(_SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=30)
        db.execute("PRAGMA journal_mode=WAL")
        return db

    def upsert(self, papers: Iterable[Paper]) -> None:
        """Insert or replace papers (one transaction)."""
        rows = [(p.id, json.dumps(p.to_dict())) for p in papers]
        with self._connect() as db:
            db.executemany("INSERT OR REPLACE INTO papers (id, record) VALUES (?, ?)", rows)

    def delete(self, ids: Iterable[str]) -> None:
        """Remove papers."""
        with self._connect() as db:
            db.executemany("DELETE FROM papers WHERE id = ?", [(i,) for i in ids])

    def get(self, ids: Iterable[str]) -> dict[str, Paper]:
        """The stored papers among ``ids``."""
        wanted = list(dict.fromkeys(ids))
        out: dict[str, Paper] = {}
        with self._connect() as db:
            for start in range(0, len(wanted), 500):
                part = wanted[start : start + 500]
                marks = ",".join("?" * len(part))
                for pid, record in db.execute(f"SELECT id, record FROM papers WHERE id IN ({marks})", part):
                    data = json.loads(record)
                    for key in ("sources", "urls", "categories", "keywords"):
                        data[key] = tuple(data.get(key) or ())
                    out[pid] = Paper(**data)
        return out

    def count(self) -> int:
        """Number of papers stored."""
        with self._connect() as db:
            return int(db.execute("SELECT COUNT(*) FROM papers").fetchone()[0])
