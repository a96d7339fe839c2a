"""Typed loading and selection of the evaluation questions (``eval/questions.jsonl``)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

QUESTIONS_PATH = Path(__file__).resolve().parent / "questions.jsonl"
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
