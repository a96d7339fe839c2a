"""Reader for JSON Lines in the arXiv metadata format (id, title, abstract, authors, ...).

Every line is one record. A record without a usable title or abstract (missing, null, not a
string, empty) is skipped; an optional field of the wrong type is dropped. Both are reported
with the file name and line number, and the rest of the file is still read.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..types import Paper, ParseWarning
from .ids import paper_id
from .records import BadRecord
from .text import clean_text, find_urls, read_lines, title_problem


def _required_text(record: dict[str, Any], key: str) -> str:
    value = record.get(key)
    if value is None:
        raise BadRecord(f"missing or null {key!r}")
    if not isinstance(value, str):
        raise BadRecord(f"field {key!r} should be a string, got {type(value).__name__}")
    text = clean_text(value)
    if not text:
        raise BadRecord(f"empty {key!r}")
    return text


def _optional_text(record: dict[str, Any], key: str, problems: list[str]) -> str | None:
    """A string field (a list of strings is joined); ``None`` if absent or of another type."""
    value = record.get(key)
    if value is None:
        return None
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        value = ", ".join(value)
    if not isinstance(value, str):
        problems.append(f"{key!r} ({type(value).__name__})")
        return None
    return clean_text(value) or None


def _categories(record: dict[str, Any], problems: list[str]) -> tuple[str, ...]:
    """arXiv writes categories as one space-separated string; a list of strings is accepted."""
    value = record.get("categories")
    if value is None:
        return ()
    if isinstance(value, str):
        return tuple(clean_text(value).split())
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(c for v in value for c in clean_text(v).split())
    problems.append(f"'categories' ({type(value).__name__})")
    return ()


def _arxiv_id(record: dict[str, Any], problems: list[str]) -> str | None:
    value = record.get("id")
    if value is None:
        return None
    if isinstance(value, str):
        return clean_text(value) or None
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    problems.append(f"'id' ({type(value).__name__})")
    return None


def parse_record(line: str, source: str) -> tuple[Paper, list[str]]:
    """One JSONL line → a Paper and the optional fields dropped for their type.

    Raises ``BadRecord`` (a ``ValueError``) when the line is not a usable record.
    """
    try:
        record = json.loads(line)
    except RecursionError:
        raise BadRecord("JSON nested too deeply") from None
    except ValueError as exc:  # json.JSONDecodeError, or an integer too long to convert
        raise BadRecord(f"invalid JSON: {exc}") from None
    if not isinstance(record, dict):
        raise BadRecord(f"expected a JSON object, got {type(record).__name__}")
    title = _required_text(record, "title")
    abstract = _required_text(record, "abstract")
    problem = title_problem(title)
    if problem:
        raise BadRecord(problem)
    dropped: list[str] = []
    paper = Paper(
        id=paper_id(title),
        title=title,
        abstract=abstract,
        sources=(source,),
        urls=find_urls(abstract),
        authors=_optional_text(record, "authors", dropped),
        categories=_categories(record, dropped),
        date=_optional_text(record, "update_date", dropped),
        arxiv_id=_arxiv_id(record, dropped),
    )
    return paper, dropped


def read_jsonl(
    path: Path, *, max_line_chars: int = 200_000, warnings: list[ParseWarning] | None = None
) -> list[Paper]:
    """Parse an arXiv-metadata JSONL file; bad records are reported and skipped."""
    warns: list[ParseWarning] = [] if warnings is None else warnings
    name = path.name
    papers: list[Paper] = []
    with path.open("rb") as stream:
        for number, line in read_lines(stream, name, max_line_chars, warns):
            if not line.strip():
                continue
            try:
                paper, dropped = parse_record(line, name)
            except BadRecord as exc:
                warns.append(ParseWarning(name, number, f"bad record: {exc}"))
                continue
            if dropped:
                why = f"ignored field(s) of the wrong type: {', '.join(dropped)}"
                warns.append(ParseWarning(name, number, why))
            papers.append(paper)
    return papers
