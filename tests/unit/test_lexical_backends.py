"""Both lexical backends behind one interface: same terms, same filters, same answers; the
Tantivy backend changes in place (upserts, deletes) and keeps old states readable."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.index.filters import SearchFilters
from rag.index.lexical import IncrementalLexicalIndex, LexicalRow, build, load
from rag.index.lexical.analysis import terms

DROPOUT = {
    "paper_id": "p1",
    "sources": "old.txt|new list.txt",
    "year": 2014,
    "categories": "cs.LG stat.ML",
    "authors": "Nitish Srivastava, Geoffrey Hinton (U. Toronto)",
    "venue": "JMLR",
}
ROWS = [
    LexicalRow(
        "p1:a:0",
        "Dropout\nDropout prevents neural networks from overfitting by dropping units.",
        DROPOUT,
    ),
    LexicalRow(
        "p1:a:1",
        "Dropout\nWe show improvements on speech recognition and document classification.",
        DROPOUT,
    ),
    LexicalRow(
        "p2:b:0",
        "Long Short-Term Memory\nRecurrent networks learn to store information over long time intervals.",
        {
            "paper_id": "p2",
            "sources": "old.txt",
            "year": 1997,
            "categories": "cs.NE",
            "authors": "Sepp Hochreiter",
            "venue": "Neural Computation",
        },
    ),
    LexicalRow(
        "p3:c:0",
        "DeiT\nData-efficient image transformers trained with distillation through attention.",
        {"paper_id": "p3", "sources": "new list.txt", "year": 2021, "categories": "cs.CV"},
    ),
    LexicalRow("p4:d:0", "Untitled\nA note without metadata about neural networks.", {"paper_id": "p4"}),
]
FILTERS = [
    SearchFilters(),
    SearchFilters(source="new list.txt"),
    SearchFilters(category="cs.LG"),
    SearchFilters(category="cs"),  # a category is a whole word, not a prefix
    SearchFilters(author="hinton (u."),  # part of a name, any case, regex characters literal
    SearchFilters(author="HINTON GEOFFREY"),  # both words are there, but not this text: no match
    SearchFilters(author="rivastava, geoff"),
    SearchFilters(venue="neural comp"),
    SearchFilters(year_min=2000),
    SearchFilters(year_max=2014),
    SearchFilters(year_min=2014, year_max=2014, author="srivastava"),
    SearchFilters(author="nobody"),
]


@pytest.fixture(params=["tantivy", "bm25s"])
def index(request: pytest.FixtureRequest, tmp_path: Path) -> object:
    return build(request.param, tmp_path, ROWS, "s1")


def test_analysis_is_shared() -> None:
    assert terms(["The networks are overfitting on GPT-4.", "the and of"]) == [
        ["network", "overfit", "gpt"],
        [],
    ]


def test_search_ranks_the_matching_chunk_first(index: IncrementalLexicalIndex) -> None:
    assert index.search("overfitting of neural networks", 3)[0][0] == "p1:a:0"
    assert index.search("storing information in recurrent networks", 3)[0][0] == "p2:b:0"
    assert index.search("the of and", 3) == [] and index.search("", 3) == []
    assert index.search("zebra", 3) == []


@pytest.mark.parametrize("filters", FILTERS, ids=str)
def test_filters_agree_with_the_reference_rule(
    index: IncrementalLexicalIndex, filters: SearchFilters
) -> None:
    expected = {r.chunk_id for r in ROWS if filters.matches(r.meta)}
    assert index.passing([r.chunk_id for r in ROWS], filters) == expected
    assert index.paper_ids(filters) == sorted({r.meta["paper_id"] for r in ROWS if filters.matches(r.meta)})
    hits = {c for c, _ in index.search("networks attention dropout recurrent", 10, filters)}
    assert hits == expected  # every chunk has one of the words: exactly the passing ones


def test_papers_and_source_files_of_the_whole_index(index: IncrementalLexicalIndex) -> None:
    """What the collection summary shows (aggregations, no scan of the chunks)."""
    assert index.paper_ids(SearchFilters()) == ["p1", "p2", "p3", "p4"]
    assert index.sources() == ["new list.txt", "old.txt"]


def test_source_files_follow_changes(tmp_path: Path) -> None:
    first = build("tantivy", tmp_path, ROWS, "s1")
    assert isinstance(first, IncrementalLexicalIndex)
    moved = LexicalRow("p3:c:0", ROWS[3].text, {**ROWS[3].meta, "sources": "third.txt"})
    second = first.apply([moved], ["p1:a:0", "p1:a:1"], "s2")  # p1 had "new list.txt" too
    assert second.sources() == ["old.txt", "third.txt"]
    assert build("tantivy", None, [], "s0").sources() == []


def test_backends_rank_alike(tmp_path: Path) -> None:
    tantivy, bm25s = build("tantivy", tmp_path / "t", ROWS, "s"), build("bm25s", tmp_path / "b", ROWS, "s")
    for query in ("neural networks", "image transformers distillation", "speech recognition", "long memory"):
        assert tantivy.search(query, 1)[0][0] == bm25s.search(query, 1)[0][0], query


def test_tantivy_changes_in_place_and_old_states_stay_readable(tmp_path: Path) -> None:
    first = build("tantivy", tmp_path, ROWS, "s1")
    assert isinstance(first, IncrementalLexicalIndex)
    changed = LexicalRow("p2:b2:0", "Long Short-Term Memory\nGates protect the cell state.", ROWS[2].meta)
    second = first.apply([changed, ROWS[0]], ["p2:b:0", "p9:gone:0"], "s2")  # ROWS[0] again: an upsert
    assert sorted(second.chunk_ids()) == sorted(["p1:a:0", "p1:a:1", "p2:b2:0", "p3:c:0", "p4:d:0"])
    assert second.search("gates cell state", 1)[0][0] == "p2:b2:0"
    assert first.search("gates cell state", 1) == [] and len(first) == len(ROWS)  # its own snapshot
    reopened = load("tantivy", tmp_path)
    assert reopened is not None and reopened.stamp == "s2" and len(reopened) == len(ROWS)


def test_a_failed_tantivy_write_leaves_the_last_commit(tmp_path: Path) -> None:
    first = build("tantivy", tmp_path, ROWS, "s1")
    assert isinstance(first, IncrementalLexicalIndex)

    def rows() -> object:
        yield LexicalRow("p5:e:0", "Half written", {"paper_id": "p5"})
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        first.apply(rows(), ["p1:a:0"], "s2")  # type: ignore[arg-type]
    reopened = load("tantivy", tmp_path)
    assert reopened is not None and reopened.stamp == "s1"
    assert sorted(reopened.chunk_ids()) == sorted(r.chunk_id for r in ROWS)
    after = reopened.apply([], ["p4:d:0"], "s3")  # and the writer's lock was released
    assert len(after) == len(ROWS) - 1


def test_in_memory_tantivy_index() -> None:
    index = build("tantivy", None, ROWS, "mem")
    assert len(index) == len(ROWS) and index.search("dropout", 1)[0][0].startswith("p1:")


def test_a_tantivy_index_of_another_format_is_not_loaded(tmp_path: Path) -> None:
    from rag.index.lexical import tantivy_index

    build("tantivy", tmp_path, ROWS, "s1")
    assert load("tantivy", tmp_path) is not None
    (tmp_path / "tantivy" / tantivy_index.FORMAT_FILE).write_text("scholium-tantivy-1")
    assert load("tantivy", tmp_path) is None  # so the store rebuilds it from Chroma
