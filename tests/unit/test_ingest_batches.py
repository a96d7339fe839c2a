"""Ingest writes whole papers per Chroma write (each write is atomic)."""

from __future__ import annotations

from itertools import pairwise

from hypothesis import given
from hypothesis import strategies as st
from llama_index.core.schema import TextNode

from rag.index.chunking import chunk_id, paper_of
from rag.index.ingest import _paper_batches


def _nodes(lengths: list[int]) -> list[TextNode]:
    return [
        TextNode(id_=chunk_id(f"p{p:04d}", "h", i), text="x") for p, n in enumerate(lengths) for i in range(n)
    ]


@given(st.lists(st.integers(min_value=1, max_value=9), max_size=40), st.integers(min_value=1, max_value=12))
def test_batches_keep_papers_whole_and_within_size(lengths: list[int], size: int) -> None:
    nodes = _nodes(lengths)
    batches = _paper_batches(nodes, size)
    assert [n.node_id for b in batches for n in b] == [n.node_id for n in nodes]
    owner: dict[str, int] = {}
    for number, batch in enumerate(batches):
        papers = {paper_of(n.node_id) for n in batch}
        assert len(batch) <= size or len(papers) == 1  # only a paper longer than size exceeds it
        for paper in papers:
            assert owner.setdefault(paper, number) == number  # never split across batches
    # Greedy packing: a batch is closed only when the next paper does not fit in it.
    for this, following in pairwise(batches):
        first = paper_of(following[0].node_id)
        assert len(this) + sum(paper_of(n.node_id) == first for n in following) > size


def test_no_chunks_no_batches() -> None:
    assert _paper_batches([], 5) == []
