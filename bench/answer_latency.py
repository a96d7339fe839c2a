"""Answer latency of the ``llm`` mode, lever by lever (issue: "answers in seconds").

Runs a stratified subset of the eval's dev questions through ``Assistant.stream`` (the public
API, so it also runs against an older checkout: put it first on ``PYTHONPATH``) and records per
question: total time, time to the first streamed token, tokens in the prompt (cl100k count of the
messages the model saw, estimated from the evidence) and out (streamed deltas), which generator
answered, and the question kind.

    python -m bench.answer_latency --label plans --set answer.evidence_token_budget=700
    python -m bench.answer_latency --report      # bench/results/answer_latency.md from the JSON

Each ``--set a.b=value`` is a settings override, so every lever is one flag. Results accumulate in
``bench/results/answer_latency.json`` under ``--label``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
JSON_PATH = RESULTS / "answer_latency.json"
MD_PATH = RESULTS / "answer_latency.md"


def _parse_value(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text


def _overrides(pairs: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for pair in pairs:
        key, _, value = pair.partition("=")
        node = out
        *parents, leaf = key.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = _parse_value(value)
    return out


def _cpu() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    idx = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[idx]


def run(label: str, sets: list[str], limit: int, data_dir: Path) -> dict[str, Any]:
    """Answer the questions once with the overrides; return the record for ``label``."""
    from eval.dataset import QUESTIONS_PATH, load_questions, stratified
    from rag import Assistant, Settings
    from rag.types import FinalAnswer, TextDelta

    dev = [q for q in load_questions(QUESTIONS_PATH) if q.split == "dev"]
    questions = stratified(dev, limit)
    overrides = _overrides(sets)
    settings = Settings(data_dir=data_dir, progress=False, **overrides)
    assistant = Assistant(settings)
    assistant.ask("warm-up: what does Mix-LN propose?", mode="llm")  # starts the server, warms caches
    rows: list[dict[str, Any]] = []
    for question in questions:
        clock = time.perf_counter()
        first: float | None = None
        deltas = 0
        answer = None
        for event in assistant.stream(question.question, history=question.messages, mode="llm"):
            if isinstance(event, TextDelta):
                deltas += 1
                if first is None:
                    first = time.perf_counter() - clock
            elif isinstance(event, FinalAnswer):
                answer = event.answer
        total = time.perf_counter() - clock
        assert answer is not None
        mode = answer.mode
        generator = getattr(mode, "generator", None) or str(mode)
        cited = {c.paper_id for c in answer.citations}
        rows.append({
            "id": question.id, "type": question.type, "total_s": total, "first_token_s": first,
            "model_first_token_s": answer.timings.get("first_token"),
            "tokens_out": deltas, "generator": generator,
            "kind": getattr(mode, "kind", None), "abstained": answer.abstained,
            "gold_cited": bool(cited & set(question.gold)) if question.gold else None,
            "facts_found": sum(f.lower() in answer.text.lower() for f in question.facts),
            "facts": len(question.facts),
        })  # fmt: skip
        print(f"{question.id} {question.type:12s} {total:6.1f}s first={first} gen={generator}", flush=True)
    totals = [r["total_s"] for r in rows]
    # first visible text: the model's first token, or the whole answer when no model was called
    firsts = [r["first_token_s"] if r["first_token_s"] is not None else r["total_s"] for r in rows]
    llm_rows = [r for r in rows if r["first_token_s"] is not None]
    return {
        "label": label,
        "overrides": overrides,
        "machine": {"cpu": _cpu(), "cores": os.cpu_count(), "load_1m": os.getloadavg()[0]},
        "when": time.strftime("%Y-%m-%d %H:%M", time.gmtime()),
        "questions": len(rows),
        "p50_total_s": statistics.median(totals),
        "p95_total_s": _pct(totals, 0.95),
        "p50_first_visible_s": statistics.median(firsts),
        "p50_first_token_llm_s": statistics.median([r["first_token_s"] for r in llm_rows])
        if llm_rows
        else None,
        "llm_calls": len(llm_rows),
        "tokens_out_mean": statistics.mean(r["tokens_out"] for r in llm_rows) if llm_rows else 0,
        "gold_cited": _share([r["gold_cited"] for r in rows if r["gold_cited"] is not None]),
        "fact_recall": (sum(r["facts_found"] for r in rows) / max(1, sum(r["facts"] for r in rows))),
        "rows": rows,
    }


def _share(values: list[bool]) -> float | None:
    return sum(values) / len(values) if values else None


def report(data: dict[str, Any]) -> str:
    """Markdown table of every recorded label."""

    def fmt(v: Any) -> str:
        return "—" if v is None else (f"{v:.2f}" if isinstance(v, float) else str(v))

    lines = [
        "# Answer latency, `llm` mode (bench/answer_latency.py)",
        "",
        "Stratified dev questions, embedded Qwen2.5-Coder-1.5B Q4_K_M via llama.cpp, one question at a",
        "time after a warm-up. *first visible* = first streamed model token, or the whole answer when the",
        "plan needed no model call. Quality columns are a quick check on these questions only (the eval",
        "gate is the real one).",
        "",
        "| label | overrides | questions | LLM calls | p50 total s | p95 total s | p50 first visible s "
        "| p50 first token (LLM answers) s | mean tokens out | gold cited | fact recall | machine |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for rec in data.values():
        m = rec["machine"]
        lines.append(
            f"| {rec['label']} | `{json.dumps(rec['overrides'])}` | {rec['questions']} | {rec['llm_calls']} "
            f"| {fmt(rec['p50_total_s'])} | {fmt(rec['p95_total_s'])} | {fmt(rec['p50_first_visible_s'])} "
            f"| {fmt(rec['p50_first_token_llm_s'])} | {fmt(rec['tokens_out_mean'])} "
            f"| {fmt(rec['gold_cited'])} "
            f"| {fmt(rec['fact_recall'])} | {m['cpu']}, {m['cores']} cores, load {m['load_1m']:.1f} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--label", default="current")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--limit", type=int, default=16)
    parser.add_argument(
        "--data-dir", type=Path, default=Path(os.environ.get("SCHOLIUM_BENCH_DIR", "/tmp/scholium-latency"))
    )
    parser.add_argument("--report", action="store_true", help="only rewrite the Markdown report")
    args = parser.parse_args(argv)
    data = json.loads(JSON_PATH.read_text()) if JSON_PATH.is_file() else {}
    if not args.report:
        data[args.label] = run(args.label, args.set, args.limit, args.data_dir)
        RESULTS.mkdir(parents=True, exist_ok=True)
        JSON_PATH.write_text(json.dumps(data, indent=1) + "\n")
    MD_PATH.write_text(report(data))
    print(MD_PATH.read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
