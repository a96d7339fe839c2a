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
from rag.index.lexical import LexicalRow, build, load


def test_stamps() -> None:
    clean, dirty = new_stamp(), dirty_stamp("repaired")
    assert clean != new_stamp() and is_complete(clean)
    assert dirty.startswith("dirty-repaired-") and not is_complete(dirty)
    assert not is_complete(None)


def test_stamp_in_collection_metadata() -> None:
    meta = with_stamp({"hnsw:space": "cosine", "owner": "me"}, "abc")
    assert meta == {"owner": "me", GENERATION_KEY: "abc"}  # Chroma refuses to modify hnsw keys
    assert read_stamp(meta) == "abc" and read_stamp(None) is None and read_stamp({}) is None


def test_published_stamp_follows_the_bm25s_pointer(tmp_path: Path) -> None:
    assert published_stamp(tmp_path) is None
    rows = [LexicalRow("p1:h:0", "a text about tokens", {"paper_id": "p1"})]
    for stamp in ("first", "second"):
        build("bm25s", tmp_path, rows, stamp)
        assert published_stamp(tmp_path) == stamp
        loaded = load("bm25s", tmp_path)
        assert loaded is not None and loaded.stamp == stamp
    assert [p.name for p in tmp_path.glob("gen-*")] == ["gen-second"]  # the old build is gone


def test_published_stamp_follows_the_tantivy_stamp_file(tmp_path: Path) -> None:
    assert published_stamp(tmp_path, "tantivy") is None
    rows = [LexicalRow("p1:h:0", "a text about tokens", {"paper_id": "p1"})]
    first = build("tantivy", tmp_path, rows, "first")
    assert published_stamp(tmp_path, "tantivy") == "first"
    second = first.apply([], ["p1:h:0"], "second")
    assert published_stamp(tmp_path, "tantivy") == "second" and len(second) == 0
    assert len(first) == 1  # an open state stays readable at its own stamp
    loaded = load("tantivy", tmp_path)
    assert loaded is not None and loaded.stamp == "second"


def test_journal_covers_only_the_write_it_describes(tmp_path: Path) -> None:
    from rag.index import journal

    assert journal.read(tmp_path) is None
    first = journal.begin(tmp_path, generation="g1", published="g1", dirty="dirty-1", chunk_ids=["a", "b"])
    assert first.base == "g1" and first.chunk_ids == ("a", "b") and journal.read(tmp_path) == first
    assert first.covers("dirty-1", "g1") and first.covers(first.target, first.target)
    assert not first.covers("dirty-other", "g1")  # another writer (or a repair) stamped it since
    assert not first.covers("dirty-1", "g0")  # the lexical index is not where the journal starts
    # A re-run after a kill (the collection still carries the journal's dirty stamp) extends it.
    again = journal.begin(
        tmp_path, generation="dirty-1", published="g1", dirty="dirty-2", chunk_ids=["b", "c"]
    )
    assert (again.base, again.target, again.chunk_ids) == ("g1", first.target, ("a", "b", "c"))
    assert again.covers("dirty-2", "g1")
    # Anything else starts afresh; with the lexical index behind the collection, nothing is covered.
    fresh = journal.begin(tmp_path, generation="g2", published="g1", dirty="dirty-3", chunk_ids=["d"])
    assert fresh.base is None and fresh.chunk_ids == ("d",) and not fresh.covers("dirty-3", "g1")
    journal.clear(tmp_path)
    assert journal.read(tmp_path) is None
    (tmp_path / journal.JOURNAL).write_text("{not json")
    assert journal.read(tmp_path) is None  # an unreadable journal means: rebuild
