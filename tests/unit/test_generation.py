"""The ingest stamp protocol (rag.index.generation) and the BM25 pointer it names."""

from __future__ import annotations

from pathlib import Path

from rag.index.generation import (
    GENERATION_KEY,
    dirty_stamp,
    is_complete,
    new_stamp,
    published_stamp,
    read_stamp,
    with_stamp,
)
from rag.index.lexical import LexicalIndex


def test_stamps() -> None:
    clean, dirty = new_stamp(), dirty_stamp("repaired")
    assert clean != new_stamp() and is_complete(clean)
    assert dirty.startswith("dirty-repaired-") and not is_complete(dirty)
    assert not is_complete(None)


def test_stamp_in_collection_metadata() -> None:
    meta = with_stamp({"hnsw:space": "cosine", "owner": "me"}, "abc")
    assert meta == {"owner": "me", GENERATION_KEY: "abc"}  # Chroma refuses to modify hnsw keys
    assert read_stamp(meta) == "abc" and read_stamp(None) is None and read_stamp({}) is None


def test_published_stamp_follows_the_lexical_pointer(tmp_path: Path) -> None:
    assert published_stamp(tmp_path) is None
    for stamp in ("first", "second"):
        LexicalIndex.build(["p1:h:0"], ["a text about tokens"], [{"paper_id": "p1"}], stamp).save(tmp_path)
        assert published_stamp(tmp_path) == stamp
        loaded = LexicalIndex.load(tmp_path)
        assert loaded is not None and loaded.stamp == stamp
    assert [p.name for p in tmp_path.glob("gen-*")] == ["gen-second"]  # the old build is gone
