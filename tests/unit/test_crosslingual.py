"""Cross-language search: the paper-vector store, the relevance scale, the CPU check and the
gate. The multilingual encoder here is a stand-in with known vectors (these are the store's and
the scorer's rules); the real encoder answers a French question in
tests/integration/test_crosslingual.py."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from eval.calibrate import fit_scale
from rag.answer.answerable import decide, relevance_gate
from rag.answer.language import names_nothing_readable
from rag.answer.plan import make_plan
from rag.answer.support import SCALE_FILE, CrossLingualScorer, SupportScorer, load_scale
from rag.embeddings import multilingual
from rag.index.crosslingual import CrossLingualPapers, FetchPapers, current_papers, paper_text
from rag.index.filters import SearchFilters
from rag.retrieve.retriever import HybridRetriever, RetrievalTrace
from rag.settings import Settings
from rag.types import Paper
from tests.unit.test_citations import MIXLN
from tests.unit.test_plan_stages import evidence_for, scorer  # noqa: F401  (fixture)

WORDS = ("grokking", "dance", "cache", "poem")


class WordEncoder:
    """A stand-in multilingual encoder: one axis per word of :data:`WORDS` (in any case), so
    cosines are known; it counts what it encodes."""

    dim = len(WORDS)

    def __init__(self) -> None:
        self.encoded: list[str] = []

    def _vectors(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        rows = np.array([[t.lower().count(w) + 0.01 for w in WORDS] for t in texts], dtype=np.float32)
        return rows / np.linalg.norm(rows, axis=1, keepdims=True)

    def queries(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        return self._vectors(texts)

    def passages(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        self.encoded.extend(texts)
        return self._vectors(texts)


def _paper(pid: str, title: str, abstract: str) -> Paper:
    return Paper(id=pid, title=title, abstract=abstract)


PAPERS = {
    "g": _paper("g", "Grokking at the edge", "Grokking appears late in training."),
    "d": _paper("d", "Dance from music", "An avatar learns to dance from a song's spectrum."),
    "c": _paper("c", "Cache compression", "We shrink the KV cache of LLMs."),
}


def _fetch(papers: dict[str, Paper]) -> FetchPapers:
    def fetch(ids: Iterable[str]) -> dict[str, Paper]:
        return {i: papers[i] for i in ids if i in papers}

    return fetch


def _current(papers: dict[str, Paper]) -> dict[str, str]:
    return {pid: p.content_hash for pid, p in papers.items()}


def test_paper_vectors_are_made_once_per_text_and_kept_on_disk(tmp_path: Path) -> None:
    encoder = WordEncoder()
    store = CrossLingualPapers(tmp_path, encoder)
    assert store.missing(_current(PAPERS)) == ["g", "d", "c"]
    assert store.update(_current(PAPERS), _fetch(PAPERS)) == 3
    assert encoder.encoded == [paper_text(p) for p in PAPERS.values()]
    assert store.rank("Welche Arbeit lässt einen Avatar tanzen (dance)?", 2)[0][0] == "d"
    # Another process (a new store over the same folder) reuses the vectors: nothing is encoded.
    again = WordEncoder()
    reopened = CrossLingualPapers(tmp_path, again)
    assert reopened.missing(_current(PAPERS)) == []
    assert reopened.update(_current(PAPERS), _fetch(PAPERS)) == 0 and again.encoded == []
    # A changed abstract is encoded again; a removed paper is forgotten.
    changed = {"g": replace(PAPERS["g"], abstract="Now about a cache."), "d": PAPERS["d"]}
    assert reopened.update(_current(changed), _fetch(changed)) == 1
    assert len(reopened) == 2
    assert [pid for pid, _ in reopened.rank("cache", 5)] == ["g", "d"]
    # Filters: only the papers asked for are ranked.
    assert [pid for pid, _ in reopened.rank("cache", 5, among={"d"})] == ["d"]


class CountingLexical:
    """A stand-in lexical index generation: its chunk ids, counting full reads; the filter
    passes the chunks of paper "d" only."""

    def __init__(self, chunk_ids: list[str], stamp: str) -> None:
        self.ids, self.stamp, self.reads = chunk_ids, stamp, 0

    def chunk_ids(self) -> list[str]:
        self.reads += 1
        return list(self.ids)

    def passing(self, chunk_ids: Sequence[str], filters: SearchFilters) -> set[str]:
        return {c for c in chunk_ids if c.startswith("d:")}


def test_the_retriever_reads_the_papers_chunks_once_per_index_generation(tmp_path: Path) -> None:
    from types import SimpleNamespace

    # Chunk ids out of order, as an index may list them: each paper stands for its first chunk.
    ids = [f"{pid}:{p.content_hash}:{n}" for n in (2, 0, 1) for pid, p in PAPERS.items()]
    lexical = CountingLexical(ids, "s1")
    encoder = WordEncoder()
    index = SimpleNamespace(
        settings=Settings(),
        lexical=lexical,
        crosslingual=CrossLingualPapers(tmp_path, encoder),
        papers=SimpleNamespace(get=_fetch(PAPERS)),
    )
    retriever = HybridRetriever(index)  # type: ignore[arg-type]
    assert retriever.crosslingual_pending() == 3
    hits = retriever.crosslingual(
        "Welche Arbeit lässt einen Avatar tanzen (dance)?", 2, SearchFilters(), RetrievalTrace()
    )
    assert hits is not None and hits[0][0] == f"d:{PAPERS['d'].content_hash}:0"
    assert len(encoder.encoded) == 3 and retriever.crosslingual_pending() == 0
    only_d = retriever.crosslingual("cache", 5, SearchFilters(source="x"), RetrievalTrace())
    assert [c for c, _ in only_d or []] == [f"d:{PAPERS['d'].content_hash}:0"]
    assert lexical.reads == 1  # three questions and two checks, one read of the index
    # A new generation (another ingest published) is read again; its new paper is encoded.
    extra = _paper("p", "A poem generator", "We write a poem.")
    index.papers = SimpleNamespace(get=_fetch({**PAPERS, "p": extra}))
    index.lexical = CountingLexical([*ids, f"p:{extra.content_hash}:0"], "s2")
    assert retriever.crosslingual_pending() == 1
    hits = retriever.crosslingual("poem", 1, SearchFilters(), RetrievalTrace())
    assert hits is not None and [c for c, _ in hits] == [f"p:{extra.content_hash}:0"]
    assert index.lexical.reads == 1 and len(encoder.encoded) == 4


def test_an_unreadable_vector_file_is_rebuilt_not_trusted(tmp_path: Path) -> None:
    (tmp_path / "crosslingual.npz").write_bytes(b"not a numpy file")
    encoder = WordEncoder()
    store = CrossLingualPapers(tmp_path, encoder)
    assert store.update(_current(PAPERS), _fetch(PAPERS)) == 3
    assert CrossLingualPapers(tmp_path, WordEncoder()).missing(_current(PAPERS)) == []


def test_chunk_ids_say_which_text_each_paper_has() -> None:
    assert current_papers(["p1:abc:0", "p1:abc:1", "p2:def:0"]) == {"p1": "abc", "p2": "def"}


def test_the_cross_language_relevance_is_the_cosine_on_the_english_scale(scorer: SupportScorer) -> None:  # noqa: F811
    across = CrossLingualScorer(scorer.embedder, WordEncoder(), scale=(-1.0, 2.0))
    sentences = ["Grokking appears late.", "We shrink the cache."]
    cosines = across.cosines("grokking?", sentences)
    assert cosines[0] > 0.99 and cosines[1] < 0.1
    assert across.relevance("grokking?", sentences) == pytest.approx([-1 + 2 * c for c in cosines])
    # Support of English claims stays the English scorer's.
    assert across.support("Grokking appears late.", sentences) == scorer.support(
        "Grokking appears late.", sentences
    )


def test_the_shipped_scale_maps_onto_the_english_scale() -> None:
    data = json.loads(SCALE_FILE.read_text(encoding="utf-8"))
    intercept, slope = load_scale()
    assert slope > 0 and data["pairs"] >= 1000 and data["correlation"] > 0.3
    # The multilingual cosines of related text (0.8-0.9) land on the English relevance range.
    assert 0.0 < intercept + slope * 0.85 < 1.0


def test_fit_scale_gives_the_cosines_the_mean_and_spread_of_the_relevance() -> None:
    rng = np.random.default_rng(0)
    cos = rng.normal(0.85, 0.03, 500)
    rel = 0.3 + 4 * (cos - 0.85) + rng.normal(0, 0.01, 500)
    scale = fit_scale(list(cos), list(rel))
    mapped = scale["intercept"] + scale["slope"] * cos
    assert mapped.mean() == pytest.approx(rel.mean(), abs=1e-3)
    assert mapped.std() == pytest.approx(rel.std(), rel=1e-2)
    assert scale["correlation"] > 0.9


def test_the_encoder_stays_off_on_a_cpu_without_avx2(monkeypatch: pytest.MonkeyPatch) -> None:
    multilingual.unavailable_reason.cache_clear()
    monkeypatch.setattr(multilingual.platform, "machine", lambda: "x86_64")
    monkeypatch.setattr(multilingual, "_cpu_flags", lambda: {"sse4_2", "avx"})
    monkeypatch.setattr(multilingual.importlib.util, "find_spec", lambda name: object())
    try:
        assert "AVX2" in (multilingual.unavailable_reason() or "")
        with pytest.raises(RuntimeError, match="AVX2"):
            multilingual.MultilingualEncoder()
        monkeypatch.setattr(multilingual, "_cpu_flags", lambda: {"avx", "avx2"})
        multilingual.unavailable_reason.cache_clear()
        assert multilingual.unavailable_reason() is None
    finally:
        multilingual.unavailable_reason.cache_clear()


def test_the_encoder_is_off_without_its_package(monkeypatch: pytest.MonkeyPatch) -> None:
    multilingual.unavailable_reason.cache_clear()
    monkeypatch.setattr(multilingual.importlib.util, "find_spec", lambda name: None)
    try:
        assert "not installed" in (multilingual.unavailable_reason() or "")
    finally:
        multilingual.unavailable_reason.cache_clear()


def test_a_question_in_another_language_searched_across_languages_is_not_refused(
    scorer: SupportScorer,  # noqa: F811
) -> None:
    q = "Welche Arbeit erklärt, warum tiefe Schichten großer Sprachmodelle wenig beitragen?"
    plan = make_plan(q)
    ev = evidence_for(q, scorer, [MIXLN], [(1, 1)])
    assert not relevance_gate(decide(plan, ev), ev, 0.0, plan).answerable  # English models only
    across = replace(ev, crosslingual=True)
    # Searched across languages, the usual relevance bar decides.
    assert relevance_gate(decide(plan, across), across, -1.0, plan).answerable
    assert not relevance_gate(decide(plan, across), across, 1.1, plan).answerable


def test_only_a_question_in_another_language_naming_nothing_goes_across_languages() -> None:
    assert names_nothing_readable("Je cherche l'article qui apprend à un avatar à danser.")
    assert not names_nothing_readable("Combien de paramètres a le réseau D3Net ?")  # a name
    assert not names_nothing_readable("Which paper teaches an avatar to dance?")  # English
