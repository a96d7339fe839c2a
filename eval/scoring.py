"""Scoring one system answer (Scholium's or the baseline's) against one question."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .dataset import Question
from .judge import Judge, PipelineJudge, Source, StrictJudge, judge_sentences, supported_share
from .metrics import (
    answer_sentences,
    citation_precision,
    citation_recall,
    dangling_markers,
    fact_recall,
    facts_found,
)


@dataclass
class SystemAnswer:
    """What is scored: the text, the cited papers and how sentences point at them.

    ``markers`` maps ``[n]`` to a paper id; when it is empty (the baseline has no markers) every
    sentence is taken to cite all ``cited`` papers.
    """

    text: str
    cited: list[str]
    abstained: bool
    markers: dict[int, str] = field(default_factory=dict)
    quotes: dict[str, str] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    uses_markers: bool = True
    error: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict."""
        return {
            "text": self.text,
            "cited": self.cited,
            "abstained": self.abstained,
            "markers": {str(k): v for k, v in self.markers.items()},
            "quotes": self.quotes,
            "timings": self.timings,
            "error": self.error,
            **self.extra,
        }


@dataclass
class Judges:
    """The judges in use; ``llm`` is ``None`` unless a judge endpoint is configured."""

    pipeline: PipelineJudge
    strict: StrictJudge = field(default_factory=StrictJudge)
    llm: Judge | None = None

    def named(self) -> dict[str, Judge]:
        """``{"pipeline": ..., "strict": ..., ["llm": ...]}``."""
        out: dict[str, Judge] = {"pipeline": self.pipeline, "strict": self.strict}
        if self.llm is not None:
            out["llm"] = self.llm
        return out


def sentence_citations(answer: SystemAnswer) -> list[tuple[str, list[str]]]:
    """``(sentence, cited paper ids)`` for each sentence of a non-abstained answer."""
    if answer.abstained:
        return []
    out = []
    for sentence, markers in answer_sentences(answer.text):
        if answer.uses_markers:
            cited = list(dict.fromkeys(answer.markers[m] for m in markers if m in answer.markers))
        else:
            cited = list(answer.cited)
        out.append((sentence, cited))
    return out


def score_answer(
    question: Question,
    answer: SystemAnswer,
    sources: Mapping[str, Source],
    judges: Judges,
) -> dict[str, Any]:
    """Every per-question answer metric (``None`` where it does not apply)."""
    gold = list(question.gold)
    sentences = sentence_citations(answer)
    metrics: dict[str, Any] = {"abstained": answer.abstained, "sentences": len(sentences)}

    # correctness
    if answer.abstained:
        metrics["facts_found"] = [False] * len(question.facts)
        metrics["fact_recall"] = 0.0 if question.facts else None
    else:
        metrics["facts_found"] = facts_found(answer.text, question.facts)
        metrics["fact_recall"] = fact_recall(answer.text, question.facts)
    recall = metrics["fact_recall"]
    metrics["all_facts"] = None if recall is None else float(recall == 1.0)

    # citations
    cited = [] if answer.abstained else list(answer.cited)
    supported_extra: list[str] = []
    for pid in cited:
        if pid in gold:
            continue
        quote = Source(pid, sources[pid].title if pid in sources else "", answer.quotes.get(pid, ""))
        if not quote.text and pid in sources:
            quote = sources[pid]
        claims = [s for s, c in sentences if pid in c]
        if any(judges.pipeline.supports(claim, [quote]) for claim in claims):
            supported_extra.append(pid)
    metrics["citation_precision"] = citation_precision(cited, gold, supported_extra)
    metrics["citation_precision_gold"] = citation_precision(cited, gold)
    metrics["citation_recall"] = citation_recall(cited, gold)
    metrics["dangling_markers"] = (
        dangling_markers(answer.text, answer.markers) if answer.uses_markers else None
    )

    # faithfulness, one score per judge
    unsupported: dict[str, list[str]] = {}
    for name, judge in judges.named().items():
        verdicts = judge_sentences(sentences, sources, judge)
        metrics[f"faithfulness_{name}"] = supported_share(verdicts) if sentences else None
        unsupported[name] = [s for (s, _), v in zip(sentences, verdicts, strict=True) if v is False]
    metrics["unsupported"] = unsupported
    return metrics


def needed_papers(answer: SystemAnswer) -> list[str]:
    """Paper ids whose abstracts the judges need for ``answer``."""
    return list(dict.fromkeys([*answer.cited, *answer.markers.values()]))


def sources_for(papers: Mapping[str, Any], ids: Sequence[str]) -> dict[str, Source]:
    """``Source`` records (title + whole abstract) for ``ids`` from ``Assistant.papers``."""
    out = {}
    for pid in ids:
        paper = papers.get(pid)
        if paper is not None:
            out[pid] = Source(pid, paper.title, paper.abstract)
    return out
