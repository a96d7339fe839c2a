"""Calibrate the list plan's threshold on the dev split (never held-out: ``tuning_questions``).

    python -m eval.calibrate [--data-dir DIR]

For every dev list question ("which papers ..."), the extractive answer is produced with each
candidate value of ``rag.answer.generate.LIST_RELATIVE`` (a paper is listed when its best sentence
scores at least that share of the best paper's); precision and recall of the cited papers against
the gold papers are printed, with F2 (recall weighted twice: a list should be complete, and every
listed paper comes with its quoted sentence, so an extra one costs the reader little); the value
with the best F2 is the one to use.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rag import Assistant, Settings
from rag.answer import generate

from .dataset import tuning_questions

CANDIDATES = (0.5, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9)


def sweep(assistant: Assistant) -> list[tuple[float, float, float, float]]:
    """(threshold, precision, recall, F2) over the dev list questions."""
    questions = [q for q in tuning_questions() if q.type == "multi"]
    rows = []
    original = generate.LIST_RELATIVE
    try:
        for value in CANDIDATES:
            generate.LIST_RELATIVE = value
            hits = cited = gold = 0
            for q in questions:
                answer = assistant.ask(q.question, mode="extractive")
                ids = {c.paper_id for c in answer.citations}
                hits += len(ids & set(q.gold))
                cited += len(ids)
                gold += len(q.gold)
            precision = hits / cited if cited else 0.0
            recall = hits / gold if gold else 0.0
            f2 = 5 * precision * recall / (4 * precision + recall) if precision + recall else 0.0
            rows.append((value, precision, recall, f2))
    finally:
        generate.LIST_RELATIVE = original
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-dir", type=Path, default=None)
    args = parser.parse_args(argv)
    settings = Settings(progress=False, **({"data_dir": args.data_dir} if args.data_dir else {}))
    print("LIST_RELATIVE  precision  recall  F2   (dev list questions)")
    rows = sweep(Assistant(settings))
    for value, p, r, f2 in rows:
        print(f"{value:13.2f}  {p:9.3f}  {r:6.3f}  {f2:.3f}")
    best = max(rows, key=lambda row: row[3])
    print(f"best F2 at LIST_RELATIVE = {best[0]} (in use: {generate.LIST_RELATIVE})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
