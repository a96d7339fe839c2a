"""Reader for scraped "daily papers" listing pages: page chrome, then title/abstract lines."""

from __future__ import annotations

import re
from pathlib import Path

from ..types import Paper, ParseWarning
from .ids import paper_id
from .text import clean_text, find_urls, read_lines, title_problem

_CHROME = re.compile(
    r"^(new|subscribe|daily papers|get trending papers in your email inbox.*"
    r"|by ?ak and the research community)$",
    re.IGNORECASE,
)
_DATE = re.compile(
    r"^(jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.? \d{1,2}(,? \d{4})?$",
    re.IGNORECASE,
)
_GLUED_SUBSCRIBE = re.compile(r"^Subscribe(?=[A-Z0-9])")
MIN_ABSTRACT_CHARS = 250
MIN_ABSTRACT_WORDS = 40


def is_chrome(line: str) -> bool:
    """Whether a line is page furniture rather than content."""
    return bool(_CHROME.match(line) or _DATE.match(line))


def looks_like_abstract(line: str) -> bool:
    """Abstracts are long prose; titles are short."""
    return len(line) >= MIN_ABSTRACT_CHARS or len(line.split()) >= MIN_ABSTRACT_WORDS


def read_listing(
    path: Path, *, max_line_chars: int = 200_000, warnings: list[ParseWarning] | None = None
) -> list[Paper]:
    """Parse one listing file into papers (in file order, duplicates within the file kept)."""
    warns: list[ParseWarning] = [] if warnings is None else warnings
    name = path.name
    papers: list[Paper] = []
    pending: tuple[int, str] | None = None  # (line, title) waiting for its abstract
    with path.open("rb") as stream:
        for number, raw in read_lines(stream, name, max_line_chars, warns):
            line = clean_text(_GLUED_SUBSCRIBE.sub("", raw.strip()))
            if not line or is_chrome(line):
                continue
            if pending is None:
                if looks_like_abstract(line):
                    warns.append(ParseWarning(name, number, "abstract-like line without a title; skipped"))
                    continue
                pending = (number, line)
                continue
            title_line, title = pending
            if not looks_like_abstract(line):
                warns.append(ParseWarning(name, title_line, f"title {title[:60]!r} has no abstract; skipped"))
                pending = (number, line)
                continue
            pending = None
            problem = title_problem(title)
            if problem:
                warns.append(ParseWarning(name, title_line, f"{problem}; paper skipped"))
                continue
            papers.append(
                Paper(
                    id=paper_id(title),
                    title=title,
                    abstract=line,
                    sources=(name,),
                    urls=find_urls(line),
                )
            )
    if pending is not None:
        warns.append(ParseWarning(name, pending[0], f"title {pending[1][:60]!r} has no abstract; skipped"))
    return papers
