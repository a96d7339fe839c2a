"""Typed loading and selection of the evaluation questions (``eval/questions.jsonl``), the
tuning entry point (:func:`tuning_questions`, dev split only) and the frozen held-out lock
(``eval/heldout.lock``, checked by ``python -m eval.dataset`` and rewritten by ``--freeze``)."""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

QUESTIONS_PATH = Path(__file__).resolve().parent / "questions.jsonl"
HELDOUT_LOCK_PATH = Path(__file__).resolve().parent / "heldout.lock"
TYPES = ("lookup", "fact", "multi", "compare", "unanswerable", "followup", "adversarial")
SPLITS = ("dev", "heldout")
SplitChoice = Literal["dev", "heldout", "all"]


class DatasetError(ValueError):
    """A malformed question file; the message names the file and line."""


@dataclass(frozen=True)
class Question:
    """One evaluation question (see ``eval/README.md`` for the schema)."""

    id: str
    split: str
    type: str
    question: str
    history: tuple[tuple[str, str], ...] = ()
    gold: tuple[str, ...] = ()
    facts: tuple[str, ...] = ()
    answerable: bool = True
    notes: str = ""
    extra: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    @property
    def messages(self) -> list[dict[str, str]]:
        """``history`` as OpenAI-style messages (what ``Assistant.ask`` takes)."""
        return [{"role": role, "content": content} for role, content in self.history]

    @classmethod
    def from_dict(cls, row: dict[str, Any]) -> Question:
        """Validate and convert one JSON object."""
        required = ("id", "split", "type", "question")
        missing = [key for key in required if not isinstance(row.get(key), str) or not row[key]]
        if missing:
            raise ValueError(f"missing or empty field(s): {', '.join(missing)}")
        if row["split"] not in SPLITS:
            raise ValueError(f"unknown split {row['split']!r}")
        if row["type"] not in TYPES:
            raise ValueError(f"unknown type {row['type']!r}")
        history = []
        for message in row.get("history") or []:
            if not isinstance(message, dict) or message.get("role") not in ("user", "assistant"):
                raise ValueError("history entries must be {'role': 'user'|'assistant', 'content': ...}")
            history.append((str(message["role"]), str(message.get("content") or "")))
        answerable = row.get("answerable", True)
        if not isinstance(answerable, bool):
            raise ValueError("answerable must be true or false")
        known = {"id", "split", "type", "question", "history", "gold", "facts", "answerable", "notes"}
        return cls(
            id=row["id"],
            split=row["split"],
            type=row["type"],
            question=row["question"],
            history=tuple(history),
            gold=tuple(str(g) for g in row.get("gold") or []),
            facts=tuple(str(f) for f in row.get("facts") or []),
            answerable=answerable,
            notes=str(row.get("notes") or ""),
            extra={k: v for k, v in row.items() if k not in known},
        )


def load_questions(path: Path = QUESTIONS_PATH) -> list[Question]:
    """All questions of ``path`` in file order; raises ``DatasetError`` on a bad line or duplicate id."""
    questions: list[Question] = []
    seen: set[str] = set()
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                if not isinstance(row, dict):
                    raise ValueError("not a JSON object")
                question = Question.from_dict(row)
            except ValueError as exc:  # json.JSONDecodeError is a ValueError
                raise DatasetError(f"{path}:{number}: {exc}") from exc
            if question.id in seen:
                raise DatasetError(f"{path}:{number}: duplicate id {question.id}")
            seen.add(question.id)
            questions.append(question)
    return questions


def stratified(questions: Sequence[Question], limit: int | None) -> list[Question]:
    """The first ``limit`` questions taken round-robin over types (types in order of first
    appearance, questions in file order), so a small subset covers every type.

    The result keeps file order. ``None`` (or a limit ≥ the number of questions) keeps all.
    """
    if limit is None or limit >= len(questions):
        return list(questions)
    if limit <= 0:
        return []
    by_type: dict[str, list[Question]] = {}
    for question in questions:
        by_type.setdefault(question.type, []).append(question)
    picked: set[str] = set()
    depth = 0
    while len(picked) < limit:
        for items in by_type.values():
            if depth < len(items) and len(picked) < limit:
                picked.add(items[depth].id)
        depth += 1
    return [q for q in questions if q.id in picked]


def select(
    questions: Iterable[Question], split: SplitChoice = "all", limit: int | None = None
) -> list[Question]:
    """Questions of ``split`` (``all`` = both), stratified to at most ``limit``."""
    chosen = [q for q in questions if split == "all" or q.split == split]
    return stratified(chosen, limit)


def tuning_questions(path: Path = QUESTIONS_PATH) -> list[Question]:
    """The ``dev`` questions of ``path``, in file order: the **only** entry point that tuning and
    calibration code (prompts, retrieval parameters, thresholds) may use. Held-out questions are
    never returned, so numbers reported on ``heldout`` stay untuned.

    ``tests/unit/test_eval_dataset_frozen.py`` checks every module under ``rag/`` and ``eval/``
    whose name contains "calibrat" or "tune" uses this function and nothing that can reach the
    held-out split.
    """
    return [q for q in load_questions(path) if q.split == "dev"]


# -- frozen held-out split ----------------------------------------------------------------------

LOCK_FORMAT = 1


def canonical_json(row: dict[str, Any]) -> str:
    """The canonical form of one question row that the held-out lock hashes: every field, keys
    sorted, no whitespace, non-ASCII kept (so any edit to any field changes the hash)."""
    return json.dumps(row, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def item_hash(row: dict[str, Any]) -> str:
    """SHA-256 (hex) of :func:`canonical_json` of ``row``."""
    return hashlib.sha256(canonical_json(row).encode("utf-8")).hexdigest()


def total_hash(items: dict[str, str]) -> str:
    """SHA-256 over ``"<id> <item hash>\n"`` for every item, ids sorted."""
    text = "".join(f"{qid} {digest}\n" for qid, digest in sorted(items.items()))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def heldout_rows(path: Path = QUESTIONS_PATH) -> dict[str, dict[str, Any]]:
    """``{id: raw JSON object}`` for the held-out questions of ``path`` (validated by
    :func:`load_questions` first, so a malformed file fails loudly)."""
    wanted = {q.id for q in load_questions(path) if q.split == "heldout"}
    rows: dict[str, dict[str, Any]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            if row["id"] in wanted:
                rows[row["id"]] = row
    return rows


def heldout_hashes(path: Path = QUESTIONS_PATH) -> dict[str, str]:
    """``{id: item hash}`` for the held-out questions of ``path``."""
    return {qid: item_hash(row) for qid, row in heldout_rows(path).items()}


@dataclass(frozen=True)
class LockCheck:
    """Differences between the held-out questions of a file and its lock."""

    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()
    lock_error: str = ""

    @property
    def ok(self) -> bool:
        """True when the held-out split is exactly what the lock records."""
        return not (self.added or self.removed or self.changed or self.lock_error)

    def describe(self) -> str:
        """One line per kind of difference (empty when ``ok``)."""
        lines = []
        if self.lock_error:
            lines.append(f"lock file problem: {self.lock_error}")
        if self.changed:
            lines.append(f"held-out questions changed since they were frozen: {', '.join(self.changed)}")
        if self.removed:
            lines.append(f"held-out questions removed (or moved to dev): {', '.join(self.removed)}")
        if self.added:
            lines.append(
                f"held-out questions not in the lock: {', '.join(self.added)} "
                "(new, untuned questions: run `python -m eval.dataset --freeze`)"
            )
        return "\n".join(lines)


def read_lock(lock_path: Path = HELDOUT_LOCK_PATH) -> dict[str, str]:
    """The ``{id: item hash}`` recorded in ``lock_path``; ``ValueError`` if the file is malformed
    or its total hash does not match its items (a hand-edited lock)."""
    data = json.loads(lock_path.read_text(encoding="utf-8"))
    if not isinstance(data, dict) or data.get("format") != LOCK_FORMAT:
        raise ValueError(f"{lock_path}: not a held-out lock of format {LOCK_FORMAT}")
    items = data.get("items")
    if not isinstance(items, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in items.items()
    ):
        raise ValueError(f"{lock_path}: 'items' must map question ids to hashes")
    if data.get("count") != len(items):
        raise ValueError(f"{lock_path}: 'count' {data.get('count')} != {len(items)} items")
    if data.get("total") != total_hash(items):
        raise ValueError(f"{lock_path}: total hash does not match the items (edited by hand?)")
    return dict(items)


def check_heldout_lock(path: Path = QUESTIONS_PATH, lock_path: Path = HELDOUT_LOCK_PATH) -> LockCheck:
    """Compare the held-out questions of ``path`` with ``lock_path``."""
    try:
        locked = read_lock(lock_path)
    except (OSError, ValueError) as exc:
        return LockCheck(lock_error=str(exc))
    current = heldout_hashes(path)
    return LockCheck(
        added=tuple(sorted(set(current) - set(locked))),
        removed=tuple(sorted(set(locked) - set(current))),
        changed=tuple(sorted(q for q in set(current) & set(locked) if current[q] != locked[q])),
    )


def freeze(
    path: Path = QUESTIONS_PATH, lock_path: Path = HELDOUT_LOCK_PATH, *, allow_changes: bool = False
) -> dict[str, Any]:
    """Write ``lock_path`` for the held-out questions of ``path`` and return what was written.

    Freezing is for *adding* new, untuned held-out questions: unless ``allow_changes``, it refuses
    (``ValueError``) when a question already in the lock was changed or removed, so an edit to a
    frozen item cannot be laundered by re-freezing.
    """
    if lock_path.exists() and not allow_changes:
        report = check_heldout_lock(path, lock_path)
        if report.lock_error or report.changed or report.removed:
            raise ValueError(
                "refusing to re-freeze: "
                + report.describe().replace("\n", "; ")
                + " (pass --allow-changes only for a reviewed, deliberate change)"
            )
    items = heldout_hashes(path)
    data: dict[str, Any] = {
        "format": LOCK_FORMAT,
        "about": (
            "SHA-256 of the canonical JSON (keys sorted, no spaces, UTF-8) of every held-out question "
            "in eval/questions.jsonl, and of all of them together. Checked by "
            "tests/unit/test_eval_dataset_frozen.py; rewrite only with `python -m eval.dataset --freeze` "
            "when adding new, untuned questions (see eval/README.md)."
        ),
        "questions": path.name,
        "count": len(items),
        "total": total_hash(items),
        "items": dict(sorted(items.items())),
    }
    lock_path.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return data


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m eval.dataset [--freeze [--allow-changes]] [--questions F] [--lock F]``: check (the
    default) or rewrite the held-out lock, and print the question counts."""
    parser = argparse.ArgumentParser(prog="python -m eval.dataset", description=main.__doc__)
    parser.add_argument("--questions", type=Path, default=QUESTIONS_PATH)
    parser.add_argument("--lock", type=Path, default=HELDOUT_LOCK_PATH)
    parser.add_argument(
        "--freeze", action="store_true", help="rewrite the lock (only after adding new, untuned questions)"
    )
    parser.add_argument(
        "--allow-changes", action="store_true", help="with --freeze: also accept changed/removed items"
    )
    args = parser.parse_args(argv)
    try:
        questions = load_questions(args.questions)
    except DatasetError as exc:
        print(exc, file=sys.stderr)
        return 2
    counts: dict[tuple[str, str], int] = {}
    for q in questions:
        counts[(q.type, q.split)] = counts.get((q.type, q.split), 0) + 1
    print(f"{len(questions)} questions in {args.questions}")
    for qtype in TYPES:
        row = ", ".join(f"{split} {counts.get((qtype, split), 0)}" for split in SPLITS)
        print(f"  {qtype:<13} {row}")
    if args.freeze:
        try:
            data = freeze(args.questions, args.lock, allow_changes=args.allow_changes)
        except ValueError as exc:
            print(exc, file=sys.stderr)
            return 1
        print(f"wrote {args.lock}: {data['count']} held-out questions, total {data['total'][:16]}…")
        return 0
    report = check_heldout_lock(args.questions, args.lock)
    if not report.ok:
        print(report.describe(), file=sys.stderr)
        return 1
    print(
        f"held-out lock {args.lock.name} matches ({sum(1 for q in questions if q.split == 'heldout')} items)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
