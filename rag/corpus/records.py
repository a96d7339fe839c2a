"""From the fields any reference format carries to a :class:`Paper` (shared by the readers).

A record needs a title and an abstract; everything else is optional and kept for filters and
references: authors, date (or year), venue, DOI, arXiv id, URLs, keywords.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from ..types import Paper, ParseWarning
from .ids import paper_id
from .text import clean_text, find_urls, read_lines, title_problem


class BadRecord(ValueError):
    """The record cannot become a paper."""


_DOI = re.compile(r"(10\.\d{4,9}/\S+)")
_ARXIV = re.compile(r"(?:arxiv\.org/(?:abs|pdf)/|arxiv:\s*)([\w.\-/]+?)(?:v\d+)?(?:\.pdf)?$", re.IGNORECASE)


def normalize_doi(value: str | None) -> str | None:
    """``10.1234/abc`` from a DOI in any common form (``https://doi.org/…``, ``doi:…``), lower-cased."""
    if not value:
        return None
    match = _DOI.search(value.strip())
    return match.group(1).rstrip(".,;").lower() if match else None


def arxiv_from(value: str | None) -> str | None:
    """An arXiv id from an id, ``arXiv:…`` or an arxiv.org URL."""
    if not value:
        return None
    value = value.strip()
    match = _ARXIV.search(value)
    if match:
        return match.group(1)
    return value if re.fullmatch(r"\d{4}\.\d{4,5}|[a-z\-]+(\.[A-Z]{2})?/\d{7}", value) else None


def person(name: str) -> str:
    """ "Last, First" → "First Last" (one comma); other forms unchanged."""
    last, comma, given = name.partition(",")
    if comma and given.strip() and "," not in given:
        return f"{given.strip()} {last.strip()}"
    return name.strip()


_DATE = re.compile(r"^\s*(\d{4})(?:[-/.](\d{1,2}))?(?:[-/.](\d{1,2}))?")


def iso_date(value: str | None) -> str | None:
    """``2016``, ``2016-06``, ``2016-06-05`` from ``2016/06//`` (RIS), ``2016-6-5`` and the like;
    other text is kept as given."""
    if not value:
        return None
    match = _DATE.match(value)
    if not match:
        return value
    return "-".join(f"{int(p):02d}" if i else p for i, p in enumerate(match.groups()) if p)


def text_of(value: Any) -> str | None:
    """A cleaned string from a string, a number or a list of strings; ``None`` otherwise."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, list | tuple):
        parts = [text_of(v) for v in value]
        return ", ".join(p for p in parts if p) or None
    if isinstance(value, str):
        return clean_text(value) or None
    return None


def required(value: Any, name: str) -> str:
    """The cleaned text of a required field; ``BadRecord`` if it is missing, empty or not text."""
    if value is None:
        raise BadRecord(f"missing {name}")
    text = text_of(value) if isinstance(value, str | list) else None
    if text is None:
        if isinstance(value, str):
            raise BadRecord(f"empty {name}")
        raise BadRecord(f"{name} should be text, got {type(value).__name__}")
    return text


def make_paper(
    source: str,
    *,
    title: Any,
    abstract: Any,
    authors: Iterable[str] | str | None = None,
    date: Any = None,
    venue: Any = None,
    doi: Any = None,
    arxiv_id: Any = None,
    urls: Iterable[str] = (),
    keywords: Iterable[str] | str | None = None,
) -> Paper:
    """A paper from one record's fields; raises ``BadRecord`` without a usable title/abstract."""
    title_text = required(title, "title")
    if not isinstance(abstract, str) or not clean_text(abstract):
        raise BadRecord("no abstract" if not abstract else "empty abstract")
    abstract_text = clean_text(abstract)
    problem = title_problem(title_text)
    if problem:
        raise BadRecord(problem)
    if isinstance(authors, str):
        author_text = authors
    else:
        author_text = ", ".join(person(a) for a in authors or () if isinstance(a, str) and a.strip())
    if isinstance(keywords, str):
        keyword_list = [k.strip() for k in re.split(r"[;,]", keywords)]
    else:
        keyword_list = [clean_text(k) for k in keywords or () if isinstance(k, str)]
    doi_text = normalize_doi(text_of(doi))
    links = [u.strip() for u in urls if isinstance(u, str) and u.strip().startswith(("http://", "https://"))]
    if doi_text:
        links.append(f"https://doi.org/{doi_text}")
    return Paper(
        id=paper_id(title_text),
        title=title_text,
        abstract=abstract_text,
        sources=(source,),
        urls=tuple(dict.fromkeys([*links, *find_urls(abstract_text)])),
        authors=clean_text(author_text) or None,
        date=iso_date(text_of(date)),
        arxiv_id=arxiv_from(text_of(arxiv_id)) or next(filter(None, map(arxiv_from, links)), None),
        doi=doi_text,
        venue=text_of(venue),
        keywords=tuple(dict.fromkeys(k for k in keyword_list if k)),
    )


def read_text(path: Path, max_line_chars: int, warnings: list[ParseWarning]) -> str:
    """The whole file as text, decoded like the line-based readers (encoding sniffed, damaged
    lines reported, over-long lines skipped); line numbers are kept (skipped lines are empty)."""
    lines: list[str] = []
    with path.open("rb") as stream:
        for number, line in read_lines(stream, path.name, max_line_chars, warnings):
            lines.extend([""] * (number - 1 - len(lines)))
            lines.append(line)
    return "\n".join(lines)


def first(mapping: Mapping[str, Any], *keys: str) -> Any:
    """The first present, non-empty value among ``keys``."""
    for key in keys:
        value = mapping.get(key)
        if value not in (None, "", [], ()):
            return value
    return None
