"""A fact question that names a paper by its whole title is answered from that paper alone."""

from __future__ import annotations

import pytest

from rag.answer.gather import Evidence, titled_paper
from rag.answer.generate import extractive_answer
from rag.answer.plan import make_plan
from rag.answer.support import SentenceEmbedder, SupportScorer
from rag.corpus.ids import paper_id
from rag.embeddings import LocalSentenceEmbedding
from rag.types import Paper
from tests.unit.test_citations import evidence_items

MEMN2N = (
    "End-To-End Memory Networks",
    "We introduce a neural network with a recurrent attention model over a possibly large external "
    "memory. For language modeling, our approach demonstrates comparable performance to RNNs and "
    "LSTMs on the Penn TreeBank and Text8 datasets.",
)
NAS = (
    "Neural Architecture Search with Reinforcement Learning",
    "On the Penn Treebank dataset, our cell achieves a test set perplexity of 62.4 on the Penn "
    "Treebank, which is 3.6 perplexity better than the previous state-of-the-art model.",
)
CORPUS = {paper_id(t): Paper(paper_id(t), t, a) for t, a in (MEMN2N, NAS)}


def fetch(ids: list[str]) -> dict[str, Paper]:
    return {i: CORPUS[i] for i in ids if i in CORPUS}


def test_a_title_written_in_the_question_names_its_paper() -> None:
    q = "What test perplexity did End-To-End Memory Networks report on Penn TreeBank?"
    assert titled_paper(q, fetch) == CORPUS[paper_id(MEMN2N[0])]
    quoted = "What does 'neural architecture search with reinforcement learning' reach?"
    assert titled_paper(quoted, fetch) == CORPUS[paper_id(NAS[0])]
    # A run of capitalised words around the title.
    assert titled_paper("Does End-To-End Memory Networks Beat LSTMs?", fetch) == CORPUS[paper_id(MEMN2N[0])]
    # Capitalised words that are no title of the corpus ("Penn TreeBank") name nothing.
    assert titled_paper("What perplexity is reported on Penn TreeBank?", fetch) is None


@pytest.fixture(scope="module")
def scorer() -> SupportScorer:
    return SupportScorer(SentenceEmbedder(LocalSentenceEmbedding()))


def test_another_papers_number_does_not_answer_for_the_named_paper(scorer: SupportScorer) -> None:
    q = "What test perplexity did End-To-End Memory Networks report on Penn TreeBank?"
    plan = make_plan(q)
    assert plan.kind == "fact"
    items = evidence_items(q, scorer, [NAS, MEMN2N], [(1, 1), (2, 2)])  # type: ignore[list-item]
    anywhere = Evidence([i.result for i in items], items)
    assert "62.4" in " ".join(s.text for s in extractive_answer(plan, anywhere, max_sentences=2, floor=0.25))
    named = Evidence([i.result for i in items], items, must_cover=(2,), only_covered=True)
    text = " ".join(s.text for s in extractive_answer(plan, named, max_sentences=2, floor=0.25))
    assert "62.4" not in text
