"""Pure metric functions (no index, no model): retrieval ranks, citations, facts, abstention,
latency percentiles and aggregation. Each is unit-tested in ``tests/unit/test_eval_metrics.py``.

Retrieval metrics use llama-index's metric classes (``HitRate``, ``MRR``, ``Recall``) on
paper ids; nDCG is computed here because llama-index's ``NDCG`` normalises by *all* expected
ids even past the cut-off (a perfect top-10 for a question with 11 gold papers would score < 1).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence

from llama_index.core.evaluation.retrieval.metrics import MRR, HitRate, Recall

from rag.answer.citations import markers_in, parse_markers
from rag.answer.sentences import split_sentences

_HIT = HitRate()
_MRR = MRR()
_RECALL = Recall()


def _dedupe(ids: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(ids))


def hit_at(gold: Sequence[str], retrieved: Sequence[str], k: int) -> float:
    """1.0 if any gold id is among the first ``k`` retrieved ids, else 0.0."""
    top = _dedupe(retrieved)[:k]
    if not gold or not top:
        return 0.0
    return float(_HIT.compute(expected_ids=list(gold), retrieved_ids=top).score)


def recall_at(gold: Sequence[str], retrieved: Sequence[str], k: int) -> float:
    """Share of the gold ids found among the first ``k`` retrieved ids."""
    top = _dedupe(retrieved)[:k]
    if not gold or not top:
        return 0.0
    return float(_RECALL.compute(expected_ids=list(gold), retrieved_ids=top).score)


def reciprocal_rank(gold: Sequence[str], retrieved: Sequence[str], k: int | None = None) -> float:
    """1 / rank of the first gold id within the first ``k`` (all if ``None``), 0.0 if absent."""
    top = _dedupe(retrieved)[:k] if k is not None else _dedupe(retrieved)
    if not gold or not top:
        return 0.0
    return float(_MRR.compute(expected_ids=list(gold), retrieved_ids=top).score)


def ndcg_at(gold: Sequence[str], retrieved: Sequence[str], k: int) -> float:
    """Binary-relevance nDCG@k: DCG of the first ``k`` retrieved ids over the ideal DCG of
    ``min(len(gold), k)`` relevant ids at the top."""
    expected = set(gold)
    if not expected:
        return 0.0
    top = _dedupe(retrieved)[:k]
    dcg = sum(1.0 / math.log2(i + 1) for i, pid in enumerate(top, start=1) if pid in expected)
    ideal = sum(1.0 / math.log2(i + 1) for i in range(1, min(len(expected), k) + 1))
    return dcg / ideal


def retrieval_scores(gold: Sequence[str], retrieved: Sequence[str]) -> dict[str, float]:
    """hit@1, hit@5, recall@5, recall@10, MRR (within 10) and nDCG@10 of one ranking."""
    return {
        "hit@1": hit_at(gold, retrieved, 1),
        "hit@5": hit_at(gold, retrieved, 5),
        "recall@5": recall_at(gold, retrieved, 5),
        "recall@10": recall_at(gold, retrieved, 10),
        "mrr": reciprocal_rank(gold, retrieved, 10),
        "ndcg@10": ndcg_at(gold, retrieved, 10),
    }


# -- citations --------------------------------------------------------------------------------


def dangling_markers(text: str, citation_markers: Iterable[int]) -> int:
    """Markers in ``text`` with no citation, plus citations never referenced in ``text``."""
    used = markers_in(text)
    cited = set(citation_markers)
    return len(used - cited) + len(cited - used)


def citation_precision(
    cited: Sequence[str], gold: Sequence[str], supported: Iterable[str] = ()
) -> float | None:
    """Share of cited papers that are gold or (non-gold) judged to support what cites them.

    ``None`` when nothing is cited (precision is undefined).
    """
    papers = _dedupe(cited)
    if not papers:
        return None
    ok = set(gold) | set(supported)
    return sum(1 for p in papers if p in ok) / len(papers)


def citation_recall(cited: Sequence[str], gold: Sequence[str]) -> float | None:
    """Share of gold papers that are cited; ``None`` when there is no gold."""
    expected = set(gold)
    if not expected:
        return None
    return len(expected & set(cited)) / len(expected)


def answer_sentences(text: str) -> list[tuple[str, list[int]]]:
    """``(sentence without markers, marker numbers)`` for each sentence of an answer text
    (line by line, list bullets stripped); sentences without letters or digits are dropped.

    A quoted paper's heading "Title — sentence [1]" is one sentence even when the title holds a
    "?" ("Is Complexity Required for Neural Network Pruning? A Case Study on ... — ...")."""
    out: list[tuple[str, list[int]]] = []
    for line in text.splitlines():
        pieces: list[str] = []
        for raw in split_sentences(line.strip().lstrip("-*• ").strip()):
            last = pieces[-1] if pieces else ""
            if (
                last.endswith(("?", "!"))
                and " — " in raw
                and " — " not in last
                and not parse_markers(last)[1]
            ):
                pieces[-1] = f"{last} {raw}"  # the title's first part, up to its "?"
            else:
                pieces.append(raw)
        for raw in pieces:
            clean, markers = parse_markers(raw)
            if clean and any(ch.isalnum() for ch in clean):
                out.append((clean, markers))
    return out


# -- correctness ------------------------------------------------------------------------------


def _norm(text: str) -> str:
    return " ".join(text.lower().split())


def facts_found(text: str, facts: Sequence[str]) -> list[bool]:
    """For each fact: does it occur in ``text`` (case-insensitive, whitespace-normalised)?"""
    haystack = _norm(text)
    return [_norm(fact) in haystack for fact in facts]


def fact_recall(text: str, facts: Sequence[str]) -> float | None:
    """Share of ``facts`` present in ``text``; ``None`` when there are no facts."""
    if not facts:
        return None
    found = facts_found(text, facts)
    return sum(found) / len(found)


_REFUSAL = re.compile(
    r"NOT_IN_CORPUS|corpus does not answer|empty response"
    r"|\b(not|isn't|is not) (mentioned|stated|specified|reported|provided|given|included|covered)\b"
    r"|\b(does|do|did) not (contain|provide|mention|include|say|state|report|specify|answer|give)\b"
    r"|\bno (information|mention|details?)\b|\bI (don't|do not) know\b|\bcannot (be )?answer"
    r"|\bunable to (answer|determine|find)\b|\bnot (possible|able) to (determine|answer)\b",
    re.IGNORECASE,
)


def looks_like_abstention(text: str) -> bool:
    """Whether a free-text answer (the baseline's, which has no ``abstained`` flag) declines."""
    return not text.strip() or bool(_REFUSAL.search(text))


# -- aggregation ------------------------------------------------------------------------------


def mean(values: Iterable[float | None]) -> float | None:
    """Mean of the non-``None`` values; ``None`` if there are none."""
    kept = [float(v) for v in values if v is not None]
    return sum(kept) / len(kept) if kept else None


def percentile(values: Sequence[float], q: float) -> float | None:
    """The ``q``-th percentile (0..100) with linear interpolation; ``None`` for no values."""
    if not values:
        return None
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    pos = (len(ordered) - 1) * q / 100.0
    lo = math.floor(pos)
    hi = math.ceil(pos)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def latency_table(timings: Iterable[Mapping[str, float]]) -> dict[str, dict[str, float | int | None]]:
    """Per stage: ``{"n": count, "p50": s, "p95": s}`` over the answers that report the stage."""
    per_stage: dict[str, list[float]] = {}
    for row in timings:
        for stage, seconds in row.items():
            per_stage.setdefault(stage, []).append(float(seconds))
    return {
        stage: {"n": len(v), "p50": percentile(v, 50), "p95": percentile(v, 95)}
        for stage, v in sorted(per_stage.items())
    }
