"""Which retrieved papers a list answer names ("Which papers study grokking?").

A paper is listed when a logistic model, over features the pipeline already has, puts the
chance that it is one of the papers asked for at or above the model's threshold:

- ``relative``: its best sentence's relevance to the question, as a share of the best paper's;
- ``dense_rr`` / ``lexical_rr``: 1 / its rank in the embedding and in the BM25 retrieval
  (0 when that retriever did not return it).

Sentence relevance alone missed papers whose topic is spread over the whole abstract (a paper
both retrievers rank first, listed below another whose one sentence echoes the question); ranks
alone list the neighbours of the topic. The weights and the threshold are not set by hand:
``python -m eval.calibrate list --write`` fits them on the dev split's list questions (repeated
cross-validation grouped by question; the threshold with the best out-of-fold F2, recall weighted
twice) and writes ``list_membership.json`` next to this module.
"""

from __future__ import annotations

from functools import lru_cache

from .evidence import EvidenceItem
from .logistic import LogisticModel


class MembershipModel(LogisticModel):
    """Logistic model of P(the paper is one the list question asks for | features)."""

    FEATURES = ("relative", "dense_rr", "lexical_rr")


@lru_cache(maxsize=1)
def load_model() -> MembershipModel:
    """The fitted model shipped with the package (``rag/answer/list_membership.json``)."""
    return MembershipModel.load(__package__, "list_membership.json")


def _reciprocal(rank: int | None) -> float:
    return 1.0 / rank if rank else 0.0


def features(item: EvidenceItem, best: float) -> dict[str, float]:
    """The model's features for one candidate; ``best``: the best candidate's best relevance."""
    return {
        "relative": item.best_relevance / best if best > 0 else 0.0,
        "dense_rr": _reciprocal(item.result.dense_rank),
        "lexical_rr": _reciprocal(item.result.lexical_rank),
    }


def members(candidates: list[EvidenceItem], model: MembershipModel | None = None) -> list[EvidenceItem]:
    """The candidates the list names, in their order."""
    model = model or load_model()
    best = max((e.best_relevance for e in candidates), default=0.0)
    return [e for e in candidates if model.probability(features(e, best)) >= model.threshold]
