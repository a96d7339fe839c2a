"""Validate the evaluation question set ``eval/questions.jsonl`` against its schema and the corpus."""

from __future__ import annotations

import importlib
import json
import re
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
QUESTIONS = ROOT / "eval" / "questions.jsonl"
CORPUS = ROOT / "data" / "corpus"

FIELDS = {"id", "split", "type", "question", "history", "gold", "facts", "answerable", "notes"}
TYPES = {"lookup", "fact", "multi", "compare", "unanswerable", "followup", "adversarial"}
SPLITS = {"dev", "heldout"}
ID_RE = re.compile(r"^q\d{3,}$")
PAPER_ID_RE = re.compile(r"^p[0-9a-f]{12}$")
MIN_QUESTIONS = 210
MIN_HELDOUT = 85
# the held-out split has at least this many questions of each type
MIN_HELDOUT_PER_TYPE = {"compare": 10, "followup": 10}
MIN_HELDOUT_PER_TYPE_DEFAULT = 12

D3NET_QUESTION = "How many parameters does the complex-valued AEC network built on D3Net blocks have?"
BYTENET_QUESTION = "What BLEU score does ByteNet reach on WMT En-De?"


def _load_corpus_module() -> Any:
    try:
        return importlib.import_module("rag.corpus")
    except ModuleNotFoundError:  # running without the project on sys.path
        sys.path.insert(0, str(ROOT))
        return importlib.import_module("rag.corpus")


@pytest.fixture(scope="module")
def rows() -> list[dict[str, Any]]:
    assert QUESTIONS.is_file(), f"{QUESTIONS} is missing"
    out = []
    for number, line in enumerate(QUESTIONS.read_text(encoding="utf-8").splitlines(), 1):
        assert line.strip(), f"line {number} is blank"
        row = json.loads(line)
        assert isinstance(row, dict), f"line {number} is not a JSON object"
        out.append(row)
    return out


@pytest.fixture(scope="module")
def papers() -> dict[str, str]:
    """Paper id -> lower-cased ``title + abstract``."""
    corpus = _load_corpus_module().load_corpus([CORPUS])
    return {p.id: f"{p.title}\n{p.abstract}".lower() for p in corpus.papers}


def _fail(problems: list[str]) -> None:
    if problems:
        pytest.fail(f"{len(problems)} problem(s):\n" + "\n".join(problems[:50]))


def test_schema_and_field_types(rows: list[dict[str, Any]]) -> None:
    problems = []
    for row in rows:
        rid = row.get("id", "?")
        if set(row) != FIELDS:
            problems.append(f"{rid}: fields {sorted(row)} != {sorted(FIELDS)}")
            continue
        if not (isinstance(row["id"], str) and ID_RE.match(row["id"])):
            problems.append(f"{rid}: bad id")
        if row["split"] not in SPLITS:
            problems.append(f"{rid}: bad split {row['split']!r}")
        if row["type"] not in TYPES:
            problems.append(f"{rid}: bad type {row['type']!r}")
        for key in ("question", "notes"):
            if not (isinstance(row[key], str) and row[key].strip()):
                problems.append(f"{rid}: {key} must be a non-empty string")
        if not isinstance(row["answerable"], bool):
            problems.append(f"{rid}: answerable must be a bool")
        if not isinstance(row["history"], list):
            problems.append(f"{rid}: history must be a list")
        for key in ("gold", "facts"):
            value = row[key]
            if not (isinstance(value, list) and all(isinstance(v, str) and v.strip() for v in value)):
                problems.append(f"{rid}: {key} must be a list of non-empty strings")
            elif len(set(value)) != len(value):
                problems.append(f"{rid}: duplicate entries in {key}")
        if isinstance(row["gold"], list):
            for gid in row["gold"]:
                if not (isinstance(gid, str) and PAPER_ID_RE.match(gid)):
                    problems.append(f"{rid}: gold id {gid!r} is not a paper id")
    _fail(problems)


def test_ids_unique_and_enough_questions(rows: list[dict[str, Any]]) -> None:
    ids = [row.get("id") for row in rows]
    dupes = sorted(i for i, n in Counter(ids).items() if n > 1)
    assert not dupes, f"duplicate ids: {dupes}"
    assert len(rows) >= MIN_QUESTIONS, f"only {len(rows)} questions (need {MIN_QUESTIONS})"
    # new questions continue the numbering: q001, q002, ... in file order, no gaps
    expected = [f"q{n:03d}" for n in range(1, len(rows) + 1)]
    assert ids == expected, "ids must run q001, q002, ... in file order"
    questions = [(row.get("question"), json.dumps(row.get("history"))) for row in rows]
    repeated = [q for q, n in Counter(questions).items() if n > 1]
    assert not repeated, f"repeated questions: {repeated}"


def test_every_type_has_both_splits(rows: list[dict[str, Any]]) -> None:
    seen = Counter((row.get("type"), row.get("split")) for row in rows)
    missing = [f"{t}/{s}" for t in sorted(TYPES) for s in sorted(SPLITS) if not seen[(t, s)]]
    assert not missing, f"type/split combinations without questions: {missing}"
    heldout = sum(1 for row in rows if row.get("split") == "heldout")
    assert heldout >= MIN_HELDOUT, f"only {heldout} held-out questions (need {MIN_HELDOUT})"
    assert 0.25 <= heldout / len(rows) <= 0.6, f"held-out share {heldout / len(rows):.0%} is off"
    short = {
        t: seen[(t, "heldout")]
        for t in sorted(TYPES)
        if seen[(t, "heldout")] < MIN_HELDOUT_PER_TYPE.get(t, MIN_HELDOUT_PER_TYPE_DEFAULT)
    }
    assert not short, f"types with too few held-out questions: {short}"


def test_gold_ids_exist_in_corpus(rows: list[dict[str, Any]], papers: dict[str, str]) -> None:
    problems = [
        f"{row['id']}: gold {gid} not in corpus"
        for row in rows
        for gid in row.get("gold", [])
        if gid not in papers
    ]
    _fail(problems)


def test_facts_appear_in_a_gold_paper(rows: list[dict[str, Any]], papers: dict[str, str]) -> None:
    problems = []
    for row in rows:
        texts = [papers[g] for g in row.get("gold", []) if g in papers]
        for fact in row.get("facts", []):
            if not any(fact.lower() in text for text in texts):
                problems.append(f"{row['id']}: fact {fact!r} is in no gold abstract/title")
    _fail(problems)


def test_answerability_rules(rows: list[dict[str, Any]]) -> None:
    problems = []
    for row in rows:
        rid, kind = row["id"], row["type"]
        if kind == "unanswerable" and row["answerable"]:
            problems.append(f"{rid}: unanswerable question marked answerable")
        if not row["answerable"]:
            if row["gold"] or row["facts"]:
                problems.append(f"{rid}: unanswerable question has gold/facts")
            if kind not in {"unanswerable", "adversarial"}:
                problems.append(f"{rid}: only unanswerable/adversarial may be unanswerable")
        elif not row["gold"]:
            problems.append(f"{rid}: answerable question without gold papers")
        if kind in {"fact", "lookup", "followup"} and row["answerable"] and not row["facts"]:
            problems.append(f"{rid}: {kind} question without facts")
        if kind in {"multi", "compare"} and len(row["gold"]) < 2:
            problems.append(f"{rid}: {kind} question needs at least two gold papers")
    _fail(problems)


def test_history_only_on_followups(rows: list[dict[str, Any]]) -> None:
    problems = []
    for row in rows:
        rid, history = row["id"], row["history"]
        if row["type"] != "followup":
            if history:
                problems.append(f"{rid}: only followup questions carry history")
            continue
        if not history:
            problems.append(f"{rid}: followup without history")
            continue
        for i, turn in enumerate(history):
            expected = "user" if i % 2 == 0 else "assistant"
            if not isinstance(turn, dict) or set(turn) != {"role", "content"}:
                problems.append(f"{rid}: history[{i}] must be {{role, content}}")
            elif turn["role"] != expected:
                problems.append(f"{rid}: history[{i}] role {turn['role']!r}, expected {expected!r}")
            elif not (isinstance(turn["content"], str) and turn["content"].strip()):
                problems.append(f"{rid}: history[{i}] has empty content")
        if history[-1].get("role") != "assistant":
            problems.append(f"{rid}: history must end with an assistant turn")
    _fail(problems)


def test_required_questions(rows: list[dict[str, Any]]) -> None:
    by_question = {row["question"]: row for row in rows}
    d3net = by_question.get(D3NET_QUESTION)
    assert d3net is not None, "the D3Net parameter-count question is missing"
    assert d3net["type"] == "fact" and d3net["answerable"]
    assert "354K" in d3net["facts"]
    bytenet = by_question.get(BYTENET_QUESTION)
    assert bytenet is not None, "the ByteNet BLEU question is missing"
    assert bytenet["type"] == "unanswerable" and not bytenet["answerable"]
