"""Aggregates over per-question records: overall, per type, per split, per system."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from rag.retrieve import Mode

from .dataset import SPLITS, TYPES
from .metrics import latency_table, mean

RETRIEVAL_MODES: tuple[Mode, ...] = ("dense", "lexical", "hybrid")
RETRIEVAL_METRICS = ("hit@1", "hit@5", "recall@5", "recall@10", "mrr", "ndcg@10")
FAITHFULNESS_JUDGES = ("pipeline", "strict", "llm")
Record = Mapping[str, Any]
# The per-type metrics shown for dev and held-out side by side (key in ``aggregate``, label).
SPLIT_COMPARE_METRICS = (
    ("gold_cited_rate", "gold paper cited"),
    ("fact_recall", "fact recall"),
    ("citation_recall", "citation recall"),
    ("abstain_rate_unanswerable", "abstention (unanswerable)"),
    ("false_abstention_rate", "false abstention (answerable)"),
    ("multi_gold_recall", "multi gold recall"),
    ("compare_all_cited_rate", "all compared works cited"),
)
GAP_THRESHOLD = 0.1


def _answer_metrics(record: Record, system: str) -> Mapping[str, Any]:
    part = record.get(system) or {}
    metrics: Mapping[str, Any] = part.get("metrics") or {}
    return metrics


def _mean_of(records: Iterable[Record], value: Callable[[Record], float | None]) -> float | None:
    return mean(value(r) for r in records)


def gold_cited_share(record: Record, system: str = "scholium") -> float | None:
    """Share of the question's gold papers among the papers ``system``'s answer cites (``None``
    without gold papers or without an answer; 0 for an abstention).

    Read from the answer's ``cited`` paper ids (``Answer.citations[i].paper_id``) when the record
    has them, else from the ``citation_recall`` metric, which is the same quantity."""
    gold = set(record.get("gold") or ())
    part = record.get(system) or {}
    if not gold or not part:
        return None
    metrics = part.get("metrics") or {}
    answer = part.get("answer") or {}
    if "cited" in answer:
        if metrics.get("abstained"):
            return 0.0
        return len(gold & set(answer["cited"] or ())) / len(gold)
    recall = metrics.get("citation_recall")
    return None if recall is None else float(recall)


def _gold_cited(system: str) -> Callable[[Record], float | None]:
    def value(r: Record) -> float | None:
        share = gold_cited_share(r, system)
        return None if share is None else float(share > 0)

    return value


def _all_gold_cited(system: str) -> Callable[[Record], float | None]:
    def value(r: Record) -> float | None:
        share = gold_cited_share(r, system)
        return None if share is None else float(share >= 1.0)

    return value


def aggregate(records: Sequence[Record], system: str = "scholium") -> dict[str, Any]:
    """Flat ``{metric name: value}`` for ``system`` (``scholium`` or ``baseline``) over ``records``.

    Metric names (see the report's definitions): ``retrieval.<mode>.<metric>``, ``fact_recall``,
    ``all_facts_rate``, ``abstain_rate_unanswerable``, ``false_abstention_rate``,
    ``citation_precision``, ``citation_precision_gold``, ``citation_recall``, ``multi_gold_recall``,
    ``gold_cited_rate`` (answerable questions where at least one gold paper is cited),
    ``compare_all_cited_rate`` (answerable ``compare`` questions where every gold paper is cited),
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
    out["gold_cited_rate"] = _mean_of(answerable, _gold_cited(system))
    compare = [r for r in answerable if r["type"] == "compare"]
    out["compare_all_cited_rate"] = _mean_of(compare, _all_gold_cited(system))
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


def by_type_and_split(records: Sequence[Record], system: str = "scholium") -> dict[str, dict[str, Any]]:
    """``{type: {split: aggregate}}`` for every type and split present in ``records``; types in the
    dataset's order (then any unknown type), splits ``dev`` then ``heldout``."""
    known = {t: i for i, t in enumerate(TYPES)}
    order = {s: i for i, s in enumerate(SPLITS)}
    groups: dict[str, dict[str, list[Record]]] = {}
    for record in records:
        groups.setdefault(str(record["type"]), {}).setdefault(str(record["split"]), []).append(record)
    out: dict[str, dict[str, Any]] = {}
    for qtype in sorted(groups, key=lambda t: (known.get(t, len(known)), t)):
        splits = groups[qtype]
        out[qtype] = {
            split: aggregate(splits[split], system)
            for split in sorted(splits, key=lambda s: (order.get(s, len(order)), s))
        }
    return out


def split_gaps(
    table: Mapping[str, Mapping[str, Mapping[str, Any]]],
    metrics: Sequence[tuple[str, str]] = SPLIT_COMPARE_METRICS,
    threshold: float = GAP_THRESHOLD,
) -> list[dict[str, Any]]:
    """One row per (type, metric) of :func:`by_type_and_split` output with a value in either split:
    ``type``, ``metric`` (key), ``label``, ``n_dev``, ``n_heldout``, ``dev``, ``heldout``, ``delta``
    (held-out minus dev, ``None`` unless both are measured) and ``gap`` (``|delta| > threshold``)."""
    rows: list[dict[str, Any]] = []
    for qtype, splits in table.items():
        dev, heldout = splits.get("dev") or {}, splits.get("heldout") or {}
        for key, label in metrics:
            a, b = dev.get(key), heldout.get(key)
            if a is None and b is None:
                continue
            delta = None if a is None or b is None else float(b) - float(a)
            rows.append(
                {
                    "type": qtype,
                    "metric": key,
                    "label": label,
                    "n_dev": dev.get("n", 0),
                    "n_heldout": heldout.get("n", 0),
                    "dev": a,
                    "heldout": b,
                    "delta": delta,
                    "gap": delta is not None and abs(delta) > threshold + 1e-12,
                }
            )
    return rows


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
