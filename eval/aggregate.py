"""Aggregates over per-question records: overall, per type, per split, per system."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from rag.retrieve import Mode

from .metrics import latency_table, mean

RETRIEVAL_MODES: tuple[Mode, ...] = ("dense", "lexical", "hybrid")
RETRIEVAL_METRICS = ("hit@1", "hit@5", "recall@5", "recall@10", "mrr", "ndcg@10")
FAITHFULNESS_JUDGES = ("pipeline", "strict", "llm")
Record = Mapping[str, Any]


def _answer_metrics(record: Record, system: str) -> Mapping[str, Any]:
    part = record.get(system) or {}
    metrics: Mapping[str, Any] = part.get("metrics") or {}
    return metrics


def _mean_of(records: Iterable[Record], value: Callable[[Record], float | None]) -> float | None:
    return mean(value(r) for r in records)


def aggregate(records: Sequence[Record], system: str = "scholium") -> dict[str, Any]:
    """Flat ``{metric name: value}`` for ``system`` (``scholium`` or ``baseline``) over ``records``.

    Metric names (see the report's definitions): ``retrieval.<mode>.<metric>``, ``fact_recall``,
    ``all_facts_rate``, ``abstain_rate_unanswerable``, ``false_abstention_rate``,
    ``citation_precision``, ``citation_precision_gold``, ``citation_recall``, ``multi_gold_recall``,
    ``dangling_markers``, ``faithfulness_<judge>``, and the counts ``n``, ``n_answerable``,
    ``n_unanswerable``, ``n_with_gold``, ``errors``.
    """
    answerable = [r for r in records if r["answerable"]]
    unanswerable = [r for r in records if not r["answerable"]]
    with_gold = [r for r in records if r["gold"]]
    out: dict[str, Any] = {
        "n": len(records),
        "n_answerable": len(answerable),
        "n_unanswerable": len(unanswerable),
        "n_with_gold": len(with_gold),
    }

    def retrieval_value(mode: str, metric: str) -> Callable[[Record], float | None]:
        def get(r: Record) -> float | None:
            value: float | None = ((r.get(system) or {}).get("retrieval") or {}).get(mode, {}).get(metric)
            return value

        return get

    for mode in RETRIEVAL_MODES:
        for metric in RETRIEVAL_METRICS:
            out[f"retrieval.{mode}.{metric}"] = _mean_of(with_gold, retrieval_value(mode, metric))

    def m(key: str) -> Callable[[Record], float | None]:
        return lambda r: _answer_metrics(r, system).get(key)

    def abstained(r: Record) -> float | None:
        value = _answer_metrics(r, system).get("abstained")
        return None if value is None else float(value)

    out["fact_recall"] = _mean_of(answerable, m("fact_recall"))
    out["all_facts_rate"] = _mean_of(answerable, m("all_facts"))
    out["abstain_rate_unanswerable"] = _mean_of(unanswerable, abstained)
    out["false_abstention_rate"] = _mean_of(answerable, abstained)
    out["citation_precision"] = _mean_of(answerable, m("citation_precision"))
    out["citation_precision_gold"] = _mean_of(answerable, m("citation_precision_gold"))
    out["citation_recall"] = _mean_of(answerable, m("citation_recall"))
    out["multi_gold_recall"] = _mean_of([r for r in answerable if r["type"] == "multi"], m("citation_recall"))
    dangling = [_answer_metrics(r, system).get("dangling_markers") for r in records]
    known = [int(d) for d in dangling if d is not None]
    out["dangling_markers"] = sum(known) if known else None
    for judge in FAITHFULNESS_JUDGES:
        out[f"faithfulness_{judge}"] = _mean_of(records, m(f"faithfulness_{judge}"))
    out["errors"] = sum(1 for r in records if (r.get(system) or {}).get("answer", {}).get("error"))
    return out


def latency(records: Sequence[Record], system: str = "scholium") -> dict[str, dict[str, float | int | None]]:
    """p50/p95 per stage of ``system``'s answer timings."""
    return latency_table(((r.get(system) or {}).get("answer", {}).get("timings") or {}) for r in records)


def grouped(records: Sequence[Record], key: str, system: str = "scholium") -> dict[str, dict[str, Any]]:
    """``aggregate`` per value of ``key`` (``type`` or ``split``), in order of first appearance."""
    groups: dict[str, list[Record]] = {}
    for record in records:
        groups.setdefault(str(record[key]), []).append(record)
    return {name: aggregate(items, system) for name, items in groups.items()}


def retrieval_winner(overall: Mapping[str, Any], modes: Sequence[str] = RETRIEVAL_MODES) -> dict[str, Any]:
    """The best retrieval mode by nDCG@10 (ties broken by MRR, then hit@5), with per-metric winners."""

    def value(mode: str, metric: str) -> float:
        return float(overall.get(f"retrieval.{mode}.{metric}") or 0.0)

    def key(mode: str) -> tuple[float, float, float]:
        return value(mode, "ndcg@10"), value(mode, "mrr"), value(mode, "hit@5")

    best = max(modes, key=key)

    def best_for(metric: str) -> str:
        return max(modes, key=lambda mode: value(mode, metric))

    per_metric = {metric: best_for(metric) for metric in RETRIEVAL_METRICS}
    return {"winner": best, "by": "ndcg@10 (then mrr, hit@5)", "per_metric": per_metric}


def worst_items(records: Sequence[Record], n: int = 10, system: str = "scholium") -> list[Record]:
    """The ``n`` lowest-scoring questions (see ``item_score``), worst first."""
    return sorted(records, key=lambda r: (item_score(r, system), r["id"]))[:n]


def item_score(record: Record, system: str = "scholium") -> float:
    """0..1 per question. Unanswerable: 1 if the system abstained. Answerable: 0 if it abstained,
    else the mean of fact recall (if facts), citation recall and strict faithfulness."""
    metrics = _answer_metrics(record, system)
    if not record["answerable"]:
        return 1.0 if metrics.get("abstained") else 0.0
    if metrics.get("abstained"):
        return 0.0
    parts = [metrics.get(k) for k in ("fact_recall", "citation_recall", "faithfulness_strict")]
    value = mean(parts)
    return 0.0 if value is None else value
