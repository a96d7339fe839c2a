"""Ingest is incremental and idempotent; changes replace chunks; deletes work; a killed
ingest leaves a usable index and the next ingest completes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest

from rag import Assistant, Settings
from rag.types import Paper
from tests.conftest import write_listing

pytestmark = pytest.mark.integration


def _chunk_ids(assistant: Assistant) -> list[str]:
    return sorted(assistant.index.chroma.chunk_metadata())


def test_full_corpus_stats(full_assistant: Assistant) -> None:
    stats = full_assistant.stats()
    assert stats["papers"] == 260
    assert stats["chunks"] == full_assistant.index.chroma.count() > 260
    assert len(full_assistant.index.lexical.chunk_ids()) == stats["chunks"]
    assert full_assistant.papers(["p0aa1fb059b0f"])["p0aa1fb059b0f"].title.startswith("Mix-LN")


def test_reingest_embeds_nothing(copy_of_full_index: Settings) -> None:
    assistant = Assistant(copy_of_full_index)
    before = _chunk_ids(assistant)
    report = assistant.ingest()
    assert report.chunks_embedded == 0 and report.papers_unchanged == 260 and report.chunks_deleted == 0
    assert _chunk_ids(assistant) == before


def test_changed_abstract_replaces_its_chunks(
    small_settings: Settings, real_papers: list[Paper], tmp_path: Path
) -> None:
    assistant = Assistant(small_settings)
    first = assistant.ingest()
    assert first.papers_new == 6 and first.chunks_embedded > 0
    changed = [
        replace(
            real_papers[0], abstract=real_papers[0].abstract + " We also release a dataset of 12345 clips."
        ),
        *real_papers[1:6],
    ]
    corpus = write_listing(tmp_path / "small.txt", changed)
    report = assistant.ingest([corpus])
    assert report.papers_changed == 1 and report.papers_unchanged == 5
    ids = _chunk_ids(assistant)
    mine = [c for c in ids if c.startswith(real_papers[0].id)]
    assert mine and all(c.split(":")[1] == changed[0].content_hash for c in mine)
    assert len(ids) == len(set(ids)) == assistant.index.chroma.count()
    hits = assistant.search("dataset of 12345 clips", k=1, mode="lexical")
    assert hits[0].paper_id == real_papers[0].id


def test_prune_and_delete(small_settings: Settings, real_papers: list[Paper], tmp_path: Path) -> None:
    assistant = Assistant(small_settings)
    assistant.ingest()
    fewer = write_listing(tmp_path / "fewer.txt", real_papers[:4])
    report = assistant.ingest([fewer], prune=True)
    assert report.papers_removed == 2
    assert assistant.stats()["papers"] == 4
    removed = assistant.delete([real_papers[0].id])
    assert removed > 0 and assistant.stats()["papers"] == 3
    assert real_papers[0].id not in {paper_id for paper_id in assistant.papers([real_papers[0].id])}
    assert all(not c.startswith(real_papers[0].id) for c in assistant.index.lexical.chunk_ids())


def test_same_paper_from_a_second_file_only_relabels(
    small_settings: Settings, real_papers: list[Paper], tmp_path: Path
) -> None:
    assistant = Assistant(small_settings)
    assistant.ingest()
    other = write_listing(tmp_path / "other.txt", real_papers[:1])
    report = assistant.ingest([other])
    assert report.chunks_embedded == 0
    meta = next(
        m for c, m in assistant.index.chroma.chunk_metadata().items() if c.startswith(real_papers[0].id)
    )
    assert meta["sources"] == "small.txt|other.txt" and meta["src:other.txt"] is True


def _ingest_subprocess(settings: Settings, corpus: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "SCHOLIUM_DATA_DIR": str(settings.data_dir), "SCHOLIUM_CHROMA__INSERT_BATCH": "4"}
    return subprocess.Popen(
        [sys.executable, "-m", "rag.cli", "ingest", str(corpus), "--no-progress"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def test_killed_ingest_leaves_a_consistent_index(tmp_path: Path, real_papers: list[Paper]) -> None:
    corpus = write_listing(tmp_path / "kill.txt", real_papers[:40])
    settings = Settings(data_dir=tmp_path / "data", progress=False, corpus={"paths": [corpus]})
    for delay in (4.0, 7.0, 10.0):
        proc = _ingest_subprocess(settings, corpus)
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        assistant = Assistant(settings, auto_ingest=False)
        chunks = _chunk_ids(assistant)
        assert len(chunks) == len(set(chunks))
        # The lexical index is repaired to match Chroma exactly, and search works.
        assert sorted(assistant.index.lexical.chunk_ids()) == chunks
        if chunks:
            assert assistant.search("neural network", k=3)
    report = Assistant(settings).ingest()
    assert report.papers_seen == 40
    assistant = Assistant(settings)
    assert assistant.stats()["papers"] == 40
    again = assistant.ingest()
    assert again.chunks_embedded == 0
    chunks = _chunk_ids(assistant)
    assert sorted(assistant.index.lexical.chunk_ids()) == chunks
    # every paper's chunks come from one content version and are complete (0..n-1)
    by_paper: dict[str, list[int]] = {}
    for chunk in chunks:
        by_paper.setdefault(chunk.split(":")[0], []).append(int(chunk.split(":")[2]))
    assert all(sorted(v) == list(range(len(v))) for v in by_paper.values())


def test_ingest_indexes_lexically_what_chroma_stores(
    small_settings: Settings, real_papers: list[Paper]
) -> None:
    """An ingest hands the lexical index the rows of the chunks it wrote (not read back from
    Chroma): they must be exactly the rows Chroma's records give."""
    from rag.corpus import load_corpus
    from rag.index.ingest import index_chunker
    from rag.index.lexical import LexicalRow

    assistant = Assistant(small_settings)
    assistant.ingest()
    papers = load_corpus(list(small_settings.corpus.paths)).papers
    assert [p.id for p in papers] == [p.id for p in real_papers[:6]]
    nodes = index_chunker(assistant.index).chunk(list(papers))
    stored = assistant.index.chroma.get([n.node_id for n in nodes])
    assert len(stored) == len(nodes)
    for node in nodes:
        assert LexicalRow.from_chunk(node.node_id, node.text, node.metadata) == LexicalRow.from_chunk(
            node.node_id, *stored[node.node_id]
        )


def test_write_killed_before_the_lexical_commit_is_resynced_from_the_journal(
    small_settings: Settings, real_papers: list[Paper], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Chroma has the new papers, the Tantivy index does not: the next reader re-syncs just the
    journalled chunks (no rebuild from every chunk); if something else stamped the collection
    since, the journal is not trusted and the index is rebuilt."""
    from rag.index import store as store_module
    from rag.index.store import ScholiumIndex

    settings = small_settings.with_overrides(retrieval={"lexical_backend": "tantivy"})
    first = write_listing(tmp_path / "first.txt", real_papers[:4])
    Assistant(settings).ingest([first])

    def killed(self: ScholiumIndex, *args: object) -> None:
        raise SystemExit("killed before the lexical commit")

    with monkeypatch.context() as patch:
        patch.setattr(ScholiumIndex, "publish_lexical", killed)
        with pytest.raises(SystemExit):
            Assistant(settings).ingest([write_listing(tmp_path / "more.txt", real_papers[4:6])])

    builds: list[str] = []
    real_build = store_module.build_lexical

    def counting_build(*args: object, **kwargs: object) -> object:
        builds.append("build")
        return real_build(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(store_module, "build_lexical", counting_build)
    assistant = Assistant(settings, auto_ingest=False)
    assert sorted(assistant.index.lexical.chunk_ids()) == _chunk_ids(assistant)
    assert builds == []  # re-synced from the journal
    assert assistant.search(real_papers[5].title, k=1, mode="lexical")[0].paper_id == real_papers[5].id
    assert not (settings.index_dir / "PENDING.json").exists()

    with monkeypatch.context() as patch:
        patch.setattr(ScholiumIndex, "publish_lexical", killed)
        with pytest.raises(SystemExit):
            Assistant(settings).delete([real_papers[0].id])
    Assistant(settings, auto_ingest=False).index.chroma.mark_dirty("repaired")  # e.g. a Chroma repair
    assistant = Assistant(settings, auto_ingest=False)
    assert sorted(assistant.index.lexical.chunk_ids()) == _chunk_ids(assistant)
    assert builds == ["build"]  # the journal no longer described the gap


def test_id_lists_beyond_sqlite_limits_are_batched(tmp_path: Path) -> None:
    """A single ingest of >12k new papers used to fail with "too many SQL variables" when it
    asked Chroma which of its chunk ids already existed: id lookups are batched."""
    import numpy as np

    from rag.index.vector_store import ChromaStore

    store = ChromaStore(Settings(data_dir=tmp_path / "data", progress=False))
    ids = [f"p{i:05d}:h:0" for i in range(12_500)]
    vectors = np.random.default_rng(0).standard_normal((len(ids), 8)).astype(np.float32)
    for start in range(0, len(ids), 5000):
        store._collection.add(
            ids=ids[start : start + 5000],
            embeddings=vectors[start : start + 5000],
            documents=[f"text {i}" for i in range(start, min(start + 5000, len(ids)))],
            metadatas=[
                {"paper_id": i.split(":")[0], "_node_content": "{}"} for i in ids[start : start + 5000]
            ],
        )
    wanted = [*ids, "missing:h:0"]
    assert store.existing(wanted) == set(ids)
    got = store.get(wanted)
    assert len(got) == len(ids) and got[ids[-1]] == ("text 12499", {"paper_id": "p12499"})
    assert len(store.chunk_ids()) == len(ids)
    nearest = store.nearest(vectors[7].tolist(), 3)
    assert nearest[0][0] == ids[7] and abs(nearest[0][1] - 1.0) < 1e-4
    store.delete(ids)
    assert store.count() == 0


def test_hnsw_search_is_wide_enough_to_be_repeatable(tmp_path: Path) -> None:
    """New collections search with SEARCH_EF, and an older collection is widened on open (at
    Chroma's default the 30th-40th neighbours differed between runs)."""
    import chromadb

    from rag.index.vector_store import SEARCH_EF, ChromaStore

    fresh = ChromaStore(Settings(data_dir=tmp_path / "new", progress=False))
    assert fresh._collection.configuration["hnsw"]["ef_search"] == SEARCH_EF
    old = Settings(data_dir=tmp_path / "old", progress=False)
    client = chromadb.PersistentClient(path=str(old.chroma_path))
    client.get_or_create_collection(old.chroma.collection, metadata={"hnsw:space": "cosine"})
    assert client.get_collection(old.chroma.collection).configuration["hnsw"]["ef_search"] < SEARCH_EF
    store = ChromaStore(old)
    assert store._collection.configuration["hnsw"]["ef_search"] == SEARCH_EF


def test_chunks_are_written_whole_per_paper_lean_and_readable_by_llama_index(
    small_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ingest writes records straight to Chroma: a paper's chunks go in one write unless the
    paper alone exceeds Chroma's batch limit, no llama-index node JSON is stored, and
    llama-index's own ChromaVectorStore (the baseline retriever) still reads the records."""
    from chromadb.api.models.Collection import Collection
    from llama_index.core.vector_stores.types import VectorStoreQuery

    from rag.index.chunking import paper_of
    from rag.index.vector_store import NODE_KEYS

    writes: list[list[str]] = []  # each Chroma write's ids
    real_add = Collection.add

    def spy(self: Collection, ids, *args, **kwargs):  # type: ignore[no-untyped-def]
        writes.append(list(ids))
        real_add(self, ids, *args, **kwargs)

    monkeypatch.setattr(Collection, "add", spy)
    assistant = Assistant(small_settings.with_overrides(chroma={"insert_batch": 3}))
    assistant.index.chroma._max_batch = 2  # as if Chroma took at most 2 records per write
    report = assistant.ingest()
    written = [c for w in writes for c in w]
    assert sorted(written) == _chunk_ids(assistant) and len(written) == report.chunks_embedded
    assert max(map(len, writes)) <= 2
    per_paper: dict[str, list[int]] = {}
    for n, write in enumerate(writes):
        for chunk in write:
            per_paper.setdefault(paper_of(chunk), []).append(n)
    assert {len(v) <= 2 for v in per_paper.values()} == {True, False}, "needs short and long papers"
    for chunks in per_paper.values():
        assert len(set(chunks)) == -(-len(chunks) // 2)  # as few writes as the limit allows
    raw = assistant.index.chroma._collection.get(include=["metadatas", "documents", "embeddings"])
    assert all(not NODE_KEYS & set(m) for m in raw["metadatas"])
    vector = list(raw["embeddings"][0])
    result = assistant.index.chroma.store.query(VectorStoreQuery(query_embedding=vector, similarity_top_k=1))
    assert result.ids == [raw["ids"][0]]
    assert result.nodes[0].get_content() == raw["documents"][0]
    assert result.nodes[0].metadata["title"] == raw["metadatas"][0]["title"]
