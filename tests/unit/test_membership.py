"""Which retrieved papers a list answer names: the shipped membership model and its fit."""

from __future__ import annotations

import json

import numpy as np
import pytest

from eval.calibrate import fit_membership, list_scores
from rag.answer.membership import MembershipModel, features, load_model, members
from rag.answer.support import SentenceEmbedder, SupportScorer
from rag.embeddings import LocalSentenceEmbedding
from tests.unit.test_citations import AEC, MIXLN, evidence_items


@pytest.fixture(scope="module")
def scorer() -> SupportScorer:
    return SupportScorer(SentenceEmbedder(LocalSentenceEmbedding()))


def test_shipped_model_is_fitted_on_dev_and_monotone() -> None:
    model = load_model()
    assert set(model.weights) == set(MembershipModel.FEATURES) and 0.0 < model.threshold < 1.0
    assert model.meta["fitted_on"]["split"] == "dev"
    # A more relevant sentence or a better rank in either retriever never makes a paper less
    # likely to be listed.
    assert all(w > 0 for w in model.weights.values())
    assert MembershipModel.from_dict(json.loads(json.dumps(model.to_dict()))) == model
    with pytest.raises(ValueError, match="unknown features"):
        MembershipModel.from_dict({"weights": {"best_relevance": 1.0}, "bias": 0, "threshold": 0.5})


def test_members_weigh_ranks_and_relevance(scorer: SupportScorer) -> None:
    q = "Which papers study layer normalization in deep language models?"
    items = evidence_items(q, scorer, [MIXLN, AEC], [(1, 1), (None, None)])  # type: ignore[list-item]
    values = features(items[0], max(e.best_relevance for e in items))
    assert values == {"relative": 1.0, "dense_rr": 1.0, "lexical_rr": 1.0}
    model = MembershipModel({"relative": 4.0, "dense_rr": 2.0, "lexical_rr": 2.0}, -5.0, 0.5, {})
    assert [e.paper_id for e in members(items, model)] == ["p1"]
    # First in both retrievers, listed even with a weaker sentence than another candidate's.
    items[0].relevance = [0.5 * r for r in items[0].relevance]
    items[1].relevance = [max(items[0].relevance) * 1.5]
    assert "p1" in [e.paper_id for e in members(items, model)]


def test_fit_recovers_a_separable_rule() -> None:
    rng = np.random.RandomState(0)
    ids, rows, labels, gold = [], [], [], {}
    for q in range(30):
        gold[f"q{q}"] = 3
        for n in range(8):
            relevant = n < 3
            rows.append([rng.uniform(0.7, 1.0) if relevant else rng.uniform(0.0, 0.5), 1 / (n + 1), 0.0])
            labels.append(int(relevant))
            ids.append(f"q{q}")
    model = fit_membership(ids, rows, labels, gold)
    assert model.meta["cv"]["at_threshold"]["recall"] == 1.0
    assert model.meta["cv"]["at_threshold"]["precision"] >= 0.95
    assert model.weights["relative"] > 0
    assert list_scores(np.array([True, False]), np.array([1, 1]), 4) == {
        "precision": 1.0,
        "recall": 0.25,
        "f2": round(5 * 0.25 / (4 + 0.25), 4),
    }
