"""Reader for JSON Lines in the arXiv metadata format (id, title, abstract, authors, ...)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..types import Paper, ParseWarning
from .ids import paper_id
from .text import clean_text, find_urls, read_lines


def _text_field(record: dict[str, Any], key: str) -> str | None:
    value = record.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise TypeError(f"field {key!r} should be a string, got {type(value).__name__}")
    return clean_text(value)


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
                record = json.loads(line)
                if not isinstance(record, dict):
                    raise TypeError(f"expected a JSON object, got {type(record).__name__}")
                title = _text_field(record, "title")
                abstract = _text_field(record, "abstract")
                if not title:
                    raise ValueError("missing or empty 'title'")
                if not abstract:
                    raise ValueError("missing or empty 'abstract'")
                categories = _text_field(record, "categories") or ""
                arxiv_id = record.get("id")
                papers.append(
                    Paper(
                        id=paper_id(title),
                        title=title,
                        abstract=abstract,
                        sources=(name,),
                        urls=find_urls(abstract),
                        authors=_text_field(record, "authors"),
                        categories=tuple(categories.split()),
                        date=_text_field(record, "update_date"),
                        arxiv_id=str(arxiv_id) if arxiv_id is not None else None,
                    )
                )
            except (ValueError, TypeError) as exc:  # json.JSONDecodeError is a ValueError
                warns.append(ParseWarning(name, number, f"bad record: {exc}"))
    return papers
