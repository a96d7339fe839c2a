"""The held-out split is frozen (``eval/heldout.lock``) and tuning code can only see dev questions.

If ``test_heldout_split_matches_lock`` fails:

- you changed or removed a held-out question: revert it. Held-out items are never edited (an
  edit after results were seen turns them into tuning data); fix a genuinely wrong item by
  retiring it and adding a new one, reviewed;
- you added new, untuned held-out questions: run ``python -m eval.dataset --freeze`` and commit the
  lock together with the questions (see ``eval/README.md``).
"""

from __future__ import annotations

import io
import json
import re
import tokenize
from pathlib import Path
from typing import Any

import pytest

from eval.dataset import (
    HELDOUT_LOCK_PATH,
    QUESTIONS_PATH,
    canonical_json,
    check_heldout_lock,
    freeze,
    heldout_hashes,
    item_hash,
    load_questions,
    main,
    read_lock,
    total_hash,
    tuning_questions,
)

ROOT = Path(__file__).resolve().parents[2]
SCANNED_PACKAGES = ("rag", "eval")
TUNING_NAME = re.compile(r"calibrat|tune", re.IGNORECASE)
# What a tuning/calibration module must not mention: anything that can reach held-out questions.
FORBIDDEN = ("heldout", "held_out", "load_questions", "select(", "stratified(", "questions.jsonl")


# -- the lock -----------------------------------------------------------------------------------


def test_heldout_split_matches_lock() -> None:
    report = check_heldout_lock(QUESTIONS_PATH, HELDOUT_LOCK_PATH)
    assert report.ok, report.describe()


def test_lock_is_consistent_and_covers_every_heldout_question() -> None:
    locked = read_lock(HELDOUT_LOCK_PATH)  # raises on a hand-edited total
    heldout = [q.id for q in load_questions() if q.split == "heldout"]
    assert sorted(locked) == sorted(heldout)
    assert len(locked) >= 85
    data = json.loads(HELDOUT_LOCK_PATH.read_text(encoding="utf-8"))
    assert data["total"] == total_hash(data["items"])
    assert all(re.fullmatch(r"[0-9a-f]{64}", digest) for digest in locked.values())


def test_canonical_json_is_order_and_whitespace_independent() -> None:
    a = {"id": "q1", "split": "heldout", "question": "Wie viele?", "gold": ["p1"]}
    b = {"gold": ["p1"], "question": "Wie viele?", "split": "heldout", "id": "q1"}
    assert (
        canonical_json(a)
        == canonical_json(b)
        == ('{"gold":["p1"],"id":"q1","question":"Wie viele?","split":"heldout"}')
    )
    assert item_hash(a) == item_hash(b)
    assert item_hash(a) != item_hash({**a, "question": "Wie viele ?"})
    assert item_hash(a) != item_hash({**a, "gold": ["p1", "p2"]})


def _row(qid: str, split: str = "heldout", **extra: Any) -> dict[str, Any]:
    row = {
        "id": qid,
        "split": split,
        "type": "fact",
        "question": f"What is {qid}?",
        "history": [],
        "gold": ["p000000000001"],
        "facts": ["42"],
        "answerable": True,
        "notes": "synthetic",
    }
    return {**row, **extra}


def _write(path: Path, rows: list[dict[str, Any]]) -> None:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")


def test_lock_detects_changed_removed_and_added_items(tmp_path: Path) -> None:
    questions, lock = tmp_path / "q.jsonl", tmp_path / "heldout.lock"
    rows = [_row("q1"), _row("q2"), _row("q3", split="dev"), _row("q4")]
    _write(questions, rows)
    data = freeze(questions, lock)
    assert data["count"] == 3 and sorted(data["items"]) == ["q1", "q2", "q4"]
    assert check_heldout_lock(questions, lock).ok

    # dev questions are not frozen: editing one is fine
    _write(questions, [rows[0], rows[1], _row("q3", split="dev", question="Edited?"), rows[3]])
    assert check_heldout_lock(questions, lock).ok

    # any edit to a held-out item, even to its notes or facts, is caught
    _write(questions, [_row("q1", facts=["43"]), rows[1], rows[2], rows[3]])
    assert check_heldout_lock(questions, lock).changed == ("q1",)
    _write(questions, [rows[0], _row("q2", notes="reworded"), rows[2], rows[3]])
    assert check_heldout_lock(questions, lock).changed == ("q2",)

    # removal, or moving a held-out item to dev, is caught
    _write(questions, [rows[0], rows[2], rows[3]])
    assert check_heldout_lock(questions, lock).removed == ("q2",)
    _write(questions, [rows[0], _row("q2", split="dev"), rows[2], rows[3]])
    assert check_heldout_lock(questions, lock).removed == ("q2",)

    # a new held-out item without re-freezing is caught; freezing accepts it
    _write(questions, [*rows, _row("q5")])
    report = check_heldout_lock(questions, lock)
    assert report.added == ("q5",) and not report.ok and "--freeze" in report.describe()
    freeze(questions, lock)
    assert check_heldout_lock(questions, lock).ok


def test_freeze_refuses_to_launder_changes(tmp_path: Path) -> None:
    questions, lock = tmp_path / "q.jsonl", tmp_path / "heldout.lock"
    _write(questions, [_row("q1"), _row("q2")])
    freeze(questions, lock)
    _write(questions, [_row("q1", question="A different question?"), _row("q2"), _row("q3")])
    with pytest.raises(ValueError, match=r"refusing to re-freeze.*q1"):
        freeze(questions, lock)
    assert check_heldout_lock(questions, lock).changed == ("q1",)  # lock left untouched
    freeze(questions, lock, allow_changes=True)  # the deliberate, reviewable override
    assert check_heldout_lock(questions, lock).ok


def test_hand_edited_lock_is_rejected(tmp_path: Path) -> None:
    questions, lock = tmp_path / "q.jsonl", tmp_path / "heldout.lock"
    _write(questions, [_row("q1")])
    data = freeze(questions, lock)
    data["items"]["q1"] = "0" * 64  # edited item hash, stale total
    lock.write_text(json.dumps(data), encoding="utf-8")
    report = check_heldout_lock(questions, lock)
    assert not report.ok and "total hash" in report.lock_error
    assert not check_heldout_lock(questions, tmp_path / "missing.lock").ok


def test_cli_check_and_freeze(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    questions, lock = tmp_path / "q.jsonl", tmp_path / "heldout.lock"
    _write(questions, [_row("q1"), _row("q2", split="dev")])
    args = ["--questions", str(questions), "--lock", str(lock)]
    assert main(args) == 1  # no lock yet
    assert main([*args, "--freeze"]) == 0
    assert main(args) == 0
    assert "fact          dev 1, heldout 1" in capsys.readouterr().out
    _write(questions, [_row("q1", gold=["p000000000002"]), _row("q2", split="dev")])
    assert main(args) == 1
    assert main([*args, "--freeze"]) == 1
    assert main([*args, "--freeze", "--allow-changes"]) == 0
    assert heldout_hashes(questions) == read_lock(lock)


# -- tuning code sees dev only --------------------------------------------------------------------


def test_tuning_questions_never_returns_heldout(tmp_path: Path) -> None:
    real = tuning_questions()
    assert real and all(q.split == "dev" for q in real)
    assert [q.id for q in real] == [q.id for q in load_questions() if q.split == "dev"]
    assert not {q.id for q in real} & set(read_lock(HELDOUT_LOCK_PATH))

    path = tmp_path / "q.jsonl"
    _write(path, [_row("q1"), _row("q2", split="dev"), _row("q3"), _row("q4", split="dev")])
    assert [q.id for q in tuning_questions(path)] == ["q2", "q4"]
    _write(path, [_row("q1")])
    assert tuning_questions(path) == []


def forbidden_references(source: str) -> list[str]:
    """The forbidden names a module's source uses (comments ignored; code and strings scanned)."""
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
        code = " ".join(t.string for t in tokens if t.type != tokenize.COMMENT)
        # keep "select(" detectable after tokenizing ("select" and "(" are separate tokens)
        code = re.sub(r"\s+\(", "(", code)
    except (tokenize.TokenError, SyntaxError):
        code = source
    lowered = code.lower()
    return [name for name in FORBIDDEN if name in lowered]


def is_tuning_module(path: Path, root: Path = ROOT) -> bool:
    """Whether a module's name (file or any package folder) says it tunes or calibrates."""
    parts = path.relative_to(root).with_suffix("").parts
    return any(TUNING_NAME.search(part) for part in parts)


def tuning_modules(root: Path = ROOT) -> list[Path]:
    return sorted(
        path
        for package in SCANNED_PACKAGES
        for path in (root / package).rglob("*.py")
        if is_tuning_module(path, root)
    )


def test_scanner_flags_offending_sources(tmp_path: Path) -> None:
    bad = "from eval.dataset import load_questions, select\nquestions = select(load_questions(), 'heldout')\n"
    assert forbidden_references(bad) == ["heldout", "load_questions", "select("]
    assert forbidden_references("qs = [q for q in rows if q.split == 'held_out']\n") == ["held_out"]
    assert forbidden_references("open('eval/questions.jsonl')\n") == ["questions.jsonl"]
    assert forbidden_references("x = stratified (qs, 5)\n") == ["stratified("]
    good = (
        "from eval.dataset import tuning_questions\n"
        "# never use the held-out split: heldout numbers must stay untuned\n"
        "questions = tuning_questions()\n"
    )
    assert forbidden_references(good) == []

    (tmp_path / "rag" / "answer").mkdir(parents=True)
    (tmp_path / "eval" / "calibration").mkdir(parents=True)
    for name in ("rag/answer/calibrate_threshold.py", "rag/answer/pipeline.py", "eval/tune_prompts.py",
                 "eval/calibration/__init__.py", "eval/run.py"):  # fmt: skip
        (tmp_path / name).write_text(good)
    found = [p.relative_to(tmp_path).as_posix() for p in tuning_modules(tmp_path)]
    assert found == [
        "eval/calibration/__init__.py",
        "eval/tune_prompts.py",
        "rag/answer/calibrate_threshold.py",
    ]


def test_tuning_and_calibration_modules_only_use_tuning_questions() -> None:
    problems = []
    for path in tuning_modules():
        used = forbidden_references(path.read_text(encoding="utf-8"))
        if used:
            problems.append(
                f"{path.relative_to(ROOT)} uses {', '.join(used)}: use eval.dataset.tuning_questions()"
            )
    assert not problems, "\n".join(problems)
