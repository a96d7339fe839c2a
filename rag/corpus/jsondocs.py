"""Readers for JSON documents: CSL-JSON (Zotero, Pandoc/citeproc) and OpenAlex works (an API
page ``{"results": [...]}``, a list of works, or one work), told apart by content. A ``.json``
file that is neither is read as arXiv-metadata JSON Lines (the arXiv snapshot's suffix)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..types import Paper, ParseWarning
from .jsonl import read_jsonl
from .records import BadRecord, arxiv_from, first, make_paper, read_text, text_of
from .text import read_lines


def openalex_abstract(index: Any) -> str | None:
    """The abstract from OpenAlex's ``abstract_inverted_index`` (word → positions)."""
    if not isinstance(index, Mapping):
        return None
    slots: dict[int, str] = {}
    for word, positions in index.items():
        for position in positions if isinstance(positions, list) else []:
            if isinstance(position, int) and 0 <= position < 100_000:
                slots[position] = str(word)
    return " ".join(slots[i] for i in sorted(slots)) or None


def _openalex_paper(work: Mapping[str, Any], source: str) -> Paper:
    authors = [
        text_of((a.get("author") or {}).get("display_name"))
        for a in work.get("authorships") or []
        if isinstance(a, Mapping)
    ]
    location = work.get("primary_location") or {}
    venue = (location.get("source") or {}).get("display_name") if isinstance(location, Mapping) else None
    ids = work.get("ids") if isinstance(work.get("ids"), Mapping) else {}
    urls = [u for u in (work.get("id"), (location or {}).get("landing_page_url")) if isinstance(u, str)]
    keywords = [text_of(k.get("display_name")) for k in work.get("keywords") or [] if isinstance(k, Mapping)]
    return make_paper(
        source,
        title=first(work, "title", "display_name"),
        abstract=openalex_abstract(work.get("abstract_inverted_index")) or work.get("abstract"),
        authors=[a for a in authors if a],
        date=first(work, "publication_date", "publication_year"),
        venue=venue,
        doi=work.get("doi"),
        arxiv_id=arxiv_from(text_of(ids.get("arxiv"))) if ids else None,
        urls=urls,
        keywords=[k for k in keywords if k],
    )


def _csl_paper(item: Mapping[str, Any], source: str) -> Paper:
    authors = []
    for person in item.get("author") or []:
        if isinstance(person, Mapping):
            name = person.get("literal") or " ".join(
                str(p) for p in (person.get("given"), person.get("family")) if p
            )
            if name:
                authors.append(str(name))
    issued = item.get("issued") or {}
    parts = issued.get("date-parts") if isinstance(issued, Mapping) else None
    date = None
    if isinstance(parts, list) and parts and isinstance(parts[0], list) and parts[0]:
        date = "-".join(f"{int(p):02d}" if i else str(p) for i, p in enumerate(parts[0]) if str(p).isdigit())
    url = item.get("URL")
    return make_paper(
        source,
        title=item.get("title"),
        abstract=item.get("abstract"),
        authors=authors,
        date=date or (issued.get("raw") if isinstance(issued, Mapping) else None),
        venue=first(item, "container-title", "publisher"),
        doi=item.get("DOI"),
        arxiv_id=item.get("number") if str(item.get("publisher", "")).lower() == "arxiv" else None,
        urls=[url] if isinstance(url, str) else [],
        keywords=item.get("keyword"),
    )


def _is_openalex(item: Mapping[str, Any]) -> bool:
    return "abstract_inverted_index" in item or "authorships" in item or "display_name" in item


def _first_line(path: Path, max_line_chars: int) -> str:
    """The first non-blank line, decoded like every reader does (its warnings come later, from
    the reader that reads the whole file)."""
    with path.open("rb") as stream:
        for _, line in read_lines(stream, path.name, max_line_chars, []):
            if line.strip():
                return line
    return ""


def read_json(
    path: Path, *, max_line_chars: int = 200_000, warnings: list[ParseWarning] | None = None
) -> list[Paper]:
    """A ``.json`` file: CSL-JSON or OpenAlex by content, else arXiv JSON Lines."""
    warns: list[ParseWarning] = [] if warnings is None else warnings
    with path.open("rb") as stream:
        head = stream.read(4096).lstrip(b"\xef\xbb\xbf \t\r\n")
    if not head.startswith(b"["):
        # JSON Lines (the arXiv snapshot: gigabytes) is recognised by its first line and read line
        # by line, never whole; anything else is one document (an OpenAlex page or work).
        line = _first_line(path, max_line_chars)
        try:
            record = json.loads(line) if line else None
        except (ValueError, RecursionError):
            record = None
        if isinstance(record, Mapping) and not ("results" in record or _is_openalex(record)):
            return read_jsonl(path, max_line_chars=max_line_chars, warnings=warns)
        found: list[ParseWarning] = []
        text = read_text(path, max_line_chars, found)
        try:
            data = json.loads(text) if text.strip() else None
        except (ValueError, RecursionError):
            data = None
        if not (isinstance(data, Mapping) and ("results" in data or _is_openalex(data))):
            return read_jsonl(path, max_line_chars=max_line_chars, warnings=warns)
        warns.extend(found)
        items = data.get("results") if "results" in data else [data]
    else:
        text = read_text(path, max_line_chars, warns)
        try:
            items = json.loads(text)
        except (ValueError, RecursionError) as exc:
            warns.append(ParseWarning(path.name, getattr(exc, "lineno", 0), f"invalid JSON: {exc}"))
            return []
    papers = []
    for number, item in enumerate(items if isinstance(items, list) else [], start=1):
        if not isinstance(item, Mapping):
            warns.append(ParseWarning(path.name, 0, f"item {number}: expected an object; skipped"))
            continue
        try:
            papers.append(
                _openalex_paper(item, path.name) if _is_openalex(item) else _csl_paper(item, path.name)
            )
        except BadRecord as exc:
            label = text_of(first(item, "title", "display_name", "id")) or ""
            warns.append(ParseWarning(path.name, 0, f"item {number} {label[:60]!r} skipped: {exc}"))
    return papers
