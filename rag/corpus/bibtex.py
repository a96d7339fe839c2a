"""Reader for BibTeX (Zotero, JabRef, Mendeley exports): one paper per entry with an abstract.

Parsed with bibtexparser (LaTeX accents and braces decoded, co-authors split); an entry that
does not parse, or has no title or abstract, is reported with its line and skipped.
"""

from __future__ import annotations

import logging
from pathlib import Path

from bibtexparser import parse_string  # type: ignore[attr-defined]
from bibtexparser.middlewares import LatexDecodingMiddleware, SeparateCoAuthors

from ..types import Paper, ParseWarning
from .records import BadRecord, first, make_paper, read_text


def _authors(value: object) -> list[str]:
    """The co-authors bibtexparser split ("Last, First" is turned around by ``make_paper``)."""
    names = value if isinstance(value, list) else [value] if isinstance(value, str) else []
    return [n for n in names if isinstance(n, str) and n.strip()]


def read_bibtex(
    path: Path, *, max_line_chars: int = 200_000, warnings: list[ParseWarning] | None = None
) -> list[Paper]:
    """Parse a ``.bib`` file; entries without title/abstract and broken entries are reported."""
    warns: list[ParseWarning] = [] if warnings is None else warnings
    text = read_text(path, max_line_chars, warns)
    quiet = logging.getLogger("bibtexparser")
    level = quiet.level
    quiet.setLevel(logging.ERROR)  # its warnings about broken entries become ours (with the file name)
    try:
        library = parse_string(text, append_middleware=[LatexDecodingMiddleware(), SeparateCoAuthors()])
    finally:
        quiet.setLevel(level)
    for block in library.failed_blocks:
        error = getattr(block, "error", None)
        why = str(getattr(error, "abort_reason", "") or error or "").strip()
        warns.append(
            ParseWarning(path.name, (block.start_line or 0) + 1, f"bad BibTeX entry: {why or 'unparsable'}")
        )
    papers = []
    for entry in library.entries:
        fields = {k.lower(): v for k, v in entry.fields_dict.items()}
        values = {k: f.value for k, f in fields.items()}
        eprint = (
            values.get("eprint") if str(values.get("archiveprefix", "arxiv")).lower() == "arxiv" else None
        )
        try:
            paper = make_paper(
                path.name,
                title=values.get("title"),
                abstract=values.get("abstract"),
                authors=_authors(values.get("author")),
                date=first(values, "date", "year"),
                venue=first(values, "journal", "journaltitle", "booktitle", "publisher", "howpublished"),
                doi=values.get("doi"),
                arxiv_id=eprint,
                urls=[str(values["url"])] if values.get("url") else [],
                keywords=values.get("keywords"),
            )
        except BadRecord as exc:
            line = (entry.start_line or 0) + 1
            warns.append(ParseWarning(path.name, line, f"entry {entry.key!r} skipped: {exc}"))
            continue
        papers.append(paper)
    return papers
