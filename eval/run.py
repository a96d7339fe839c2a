"""``scholium eval``: score the assistant (and optionally the plain llama-index baseline) on the
question set and write ``results.json``, ``report.md`` and plots.

Entry point: :func:`main` (called by ``rag.commands`` with the parsed CLI arguments).
"""

from __future__ import annotations

import argparse
import json
import logging
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from tqdm import tqdm

from rag import Assistant
from rag.answer import AnswerMode
from rag.settings import Settings
from rag.types import Answer, FinalAnswer, TextDelta

from .aggregate import RETRIEVAL_MODES, aggregate, grouped, latency, retrieval_winner
from .baseline import Baseline
from .dataset import QUESTIONS_PATH, Question, SplitChoice, load_questions, select
from .gate import THRESHOLDS_PATH, gate_for_mode, load_thresholds
from .judge import PipelineJudge, llm_judge_from_env
from .metrics import looks_like_abstention, retrieval_scores
from .report import write_report
from .scoring import Judges, SystemAnswer, needed_papers, score_answer, sources_for

log = logging.getLogger(__name__)
REPORTS_DIR = Path(__file__).resolve().parent / "reports"
RETRIEVAL_K = 10


def _arg(args: argparse.Namespace, name: str, default: Any) -> Any:
    value = getattr(args, name, None)
    return default if value is None else value


def git_state() -> dict[str, Any]:
    """The commit the evaluated code is at, and the files changed since (answers depend on them)."""
    root = Path(__file__).resolve().parent.parent

    def git(*cmd: str) -> str:
        try:
            done = subprocess.run(["git", *cmd], cwd=root, capture_output=True, text=True, timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            return ""
        return done.stdout.strip() if done.returncode == 0 else ""

    changed = git("status", "--porcelain", "--", "rag", "prompts", "eval/questions.jsonl")
    return {"commit": git("rev-parse", "--short", "HEAD") or None, "changed": changed.splitlines()}


def ask(assistant: Assistant, question: Question, mode: AnswerMode) -> tuple[Answer, str]:
    """Scholium's answer and the raw generated text (before citation checking; empty if none)."""
    raw: list[str] = []
    for event in assistant.stream(question.question, history=question.messages, mode=mode):
        if isinstance(event, TextDelta):
            raw.append(event.text)
        elif isinstance(event, FinalAnswer):
            return event.answer, "".join(raw)
    raise RuntimeError("the answering pipeline ended without an answer")


def scholium_answer(answer: Answer, raw_text: str = "") -> SystemAnswer:
    """Scholium's ``Answer`` as a scored ``SystemAnswer``."""
    return SystemAnswer(
        text=answer.text,
        cited=[c.paper_id for c in answer.citations],
        abstained=answer.abstained,
        markers={c.marker: c.paper_id for c in answer.citations},
        quotes={c.paper_id: c.quote for c in answer.citations},
        timings=dict(answer.timings),
        extra={
            "mode": answer.mode.to_dict(),
            "raw_text": raw_text,
            "notice": answer.notice,
            "flagged": list(answer.flagged),
            "answerability": answer.answerability,
            "standalone_question": answer.standalone_question,
            "citations": [
                {"marker": c.marker, "paper_id": c.paper_id, "title": c.title, "quote": c.quote}
                for c in answer.citations
            ],
            "sources": [s.paper_id for s in answer.sources],
        },
    )


class Evaluation:
    """Runs every question through retrieval (three modes), the answer pipeline and the baseline."""

    def __init__(self, assistant: Assistant, mode: AnswerMode, *, baseline: bool) -> None:
        self.assistant = assistant
        self.mode = mode
        self.baseline = Baseline(assistant, top_k=RETRIEVAL_K) if baseline else None
        self.judges = Judges(
            pipeline=PipelineJudge(assistant.pipeline.scorer), llm=llm_judge_from_env(assistant.settings)
        )

    def standalone(self, question: Question) -> str:
        """The retrieval query: the question, or the rule-based standalone form of a follow-up."""
        return self.assistant.pipeline.standalone(question.question, question.messages, "extractive")

    def score(self, question: Question, answer: SystemAnswer) -> dict[str, Any]:
        """Per-question metrics of ``answer``."""
        papers = self.assistant.papers(needed_papers(answer))
        return score_answer(question, answer, sources_for(papers, needed_papers(answer)), self.judges)

    def run_one(self, question: Question) -> dict[str, Any]:
        """The full record of one question."""
        query = self.standalone(question)
        record: dict[str, Any] = {
            "id": question.id,
            "split": question.split,
            "type": question.type,
            "question": question.question,
            "history": question.messages,
            "standalone": query,
            "answerable": question.answerable,
            "gold": list(question.gold),
            "facts": list(question.facts),
            "notes": question.notes,
        }
        retrieval: dict[str, Any] = {}
        for mode in RETRIEVAL_MODES:
            timings: dict[str, float] = {}
            ranked = [
                r.paper_id for r in self.assistant.search(query, k=RETRIEVAL_K, mode=mode, timings=timings)
            ]
            retrieval[mode] = {
                **retrieval_scores(question.gold, ranked),
                "ranked": ranked,
                "seconds": timings.get("retrieve_total"),
            }
        try:
            answer = scholium_answer(*ask(self.assistant, question, self.mode))
        except Exception as exc:  # a crash is a result too: record it and go on
            log.exception("question %s failed", question.id)
            answer = SystemAnswer(text="", cited=[], abstained=False, error=f"{type(exc).__name__}: {exc}")
        record["scholium"] = {
            "retrieval": retrieval,
            "answer": answer.to_dict(),
            "metrics": self.score(question, answer),
        }
        if self.baseline is not None:
            record["baseline"] = self.run_baseline(question, query)
        return record

    def run_baseline(self, question: Question, query: str) -> dict[str, Any]:
        """Baseline retrieval (dense top-10 chunks → papers) and answer, scored the same way."""
        assert self.baseline is not None
        clock = time.perf_counter()
        ranked = self.baseline.retrieve(query)
        seconds = time.perf_counter() - clock
        try:
            got = self.baseline.answer(query, self.mode)
            answer = SystemAnswer(
                text=got.text,
                cited=got.cited,
                abstained=self.mode == "llm" and looks_like_abstention(got.text),
                quotes=got.quotes,
                timings=got.timings,
                uses_markers=False,
            )
        except Exception as exc:
            log.exception("baseline failed on %s", question.id)
            answer = SystemAnswer(
                text="", cited=[], abstained=False, uses_markers=False, error=f"{type(exc).__name__}: {exc}"
            )
        return {
            "retrieval": {
                "dense": {**retrieval_scores(question.gold, ranked), "ranked": ranked, "seconds": seconds}
            },
            "answer": answer.to_dict(),
            "metrics": self.score(question, answer),
        }


def summarize(records: list[dict[str, Any]], systems: list[str]) -> dict[str, Any]:
    """Aggregates for each system: overall, per type, per split, latency, the retrieval winner."""
    out: dict[str, Any] = {}
    for system in systems:
        overall = aggregate(records, system)
        out[system] = {
            "overall": overall,
            "by_type": grouped(records, "type", system),
            "by_split": grouped(records, "split", system),
            "latency": latency(records, system),
        }
    out["retrieval_winner"] = retrieval_winner(out["scholium"]["overall"])
    return out


def main(args: argparse.Namespace, settings: Settings) -> int:
    """Run the evaluation; returns the exit code (1 if ``--gate`` finds a metric below threshold)."""
    started = time.perf_counter()
    split: SplitChoice = _arg(args, "split", "all")
    mode: AnswerMode = _arg(args, "mode", settings.answer.mode)
    if mode not in ("llm", "extractive"):
        raise ValueError(f"unknown answer mode {mode!r} (llm or extractive)")
    limit: int | None = getattr(args, "limit", None)
    out_dir = Path(_arg(args, "out", REPORTS_DIR / f"{mode}-{split}"))
    questions_path = Path(_arg(args, "questions", QUESTIONS_PATH))
    questions = select(load_questions(questions_path), split, limit)
    if not questions:
        print("scholium eval: no questions selected", file=sys.stderr)
        return 2

    assistant = Assistant(settings)
    evaluation = Evaluation(assistant, mode, baseline=bool(getattr(args, "baseline", False)))
    records = []
    for question in tqdm(questions, desc=f"eval {mode}", unit="q", disable=not settings.progress):
        records.append(evaluation.run_one(question))

    systems = ["scholium", *(["baseline"] if evaluation.baseline is not None else [])]
    judges = {name: judge.name for name, judge in evaluation.judges.named().items()}
    if evaluation.judges.llm is None:
        judges["llm"] = "not run (set SCHOLIUM_EVAL_JUDGE_URL and SCHOLIUM_EVAL_JUDGE_MODEL)"
    result: dict[str, Any] = {
        "config": {
            "mode": mode,
            "split": split,
            "limit": limit,
            "questions": len(records),
            "retrieval_k": RETRIEVAL_K,
            "answer_k": settings.retrieval.k,
            "retrieval_mode_default": settings.retrieval.mode,
            "llm": (settings.llm.model if settings.llm.base_url else f"local:{settings.local.model}")
            if mode == "llm"
            else None,
            "baseline": evaluation.baseline is not None,
            "judges": judges,
            "python": platform.python_version(),
            "data_dir": str(settings.data_dir),
            "git": git_state(),
        },
        "aggregates": summarize(records, systems),
        "records": records,
    }

    code = 0
    if getattr(args, "gate", False):
        thresholds_path = Path(_arg(args, "thresholds", THRESHOLDS_PATH))
        failures = gate_for_mode(
            result["aggregates"]["scholium"]["overall"], load_thresholds(thresholds_path), mode
        )
        result["gate"] = {"thresholds": str(thresholds_path), "failures": failures, "passed": not failures}
        code = 1 if failures else 0
    result["config"]["seconds"] = time.perf_counter() - started

    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "results.json").write_text(json.dumps(result, indent=1, ensure_ascii=False), encoding="utf-8")
    write_report(result, out_dir)
    print_summary(result, out_dir)
    return code


def _fmt(value: Any) -> str:
    return "n/a" if value is None else (f"{value:.3f}" if isinstance(value, float) else str(value))


def print_summary(result: dict[str, Any], out_dir: Path) -> None:
    """A few headline numbers on stdout, and the gate verdict."""
    aggregates = result["aggregates"]
    overall = aggregates["scholium"]["overall"]
    keys = [
        "retrieval.hybrid.hit@5",
        "retrieval.hybrid.mrr",
        "fact_recall",
        "all_facts_rate",
        "abstain_rate_unanswerable",
        "false_abstention_rate",
        "citation_precision",
        "citation_recall",
        "faithfulness_pipeline",
        "faithfulness_strict",
        "faithfulness_llm",
        "dangling_markers",
    ]
    cfg = result["config"]
    print(f"scholium eval: {cfg['questions']} questions, mode {cfg['mode']}, split {cfg['split']}")
    for key in keys:
        line = f"  {key:28s} {_fmt(overall.get(key))}"
        if "baseline" in aggregates:
            base_key = key.replace("retrieval.hybrid.", "retrieval.dense.")
            line += f"   (baseline {_fmt(aggregates['baseline']['overall'].get(base_key))})"
        print(line)
    print(f"  best retrieval mode: {aggregates['retrieval_winner']['winner']}")
    print(f"  report: {out_dir / 'report.md'}")
    gate = result.get("gate")
    if gate is not None:
        if gate["passed"]:
            print("gate: passed")
        else:
            print("gate: FAILED")
            for failure in gate["failures"]:
                print(f"  - {failure}")
