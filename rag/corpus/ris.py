"""Reader for RIS (EndNote, Zotero, Mendeley, Web of Science exports), parsed with rispy.

Records are split at their ``ER  -`` end tag and parsed one by one, so a broken record is
reported with its line and the rest of the file is still read.
"""

from __future__ import annotations

import re
from pathlib import Path

import rispy

from ..types import Paper, ParseWarning
from .records import BadRecord, first, make_paper, read_text

_END = re.compile(r"^ER\s{2}-", re.MULTILINE)


def read_ris(
    path: Path, *, max_line_chars: int = 200_000, warnings: list[ParseWarning] | None = None
) -> list[Paper]:
    """Parse a ``.ris`` file; records without title/abstract and broken records are reported."""
    warns: list[ParseWarning] = [] if warnings is None else warnings
    text = read_text(path, max_line_chars, warns)
    papers: list[Paper] = []
    start = 0
    start_line = 1  # line number of ``start`` (counted as we go: each record once)
    for match in _END.finditer(text):
        chunk = text[start : match.end()]
        line = start_line + (len(chunk) - len(chunk.lstrip("\n")))
        start, start_line = match.end(), start_line + chunk.count("\n")
        try:
            records = rispy.loads(chunk.strip("\n") + "\n", skip_unknown_tags=True)
        except Exception as exc:  # rispy raises plain IOError/ValueError/KeyError for bad input
            warns.append(ParseWarning(path.name, line, f"bad RIS record: {exc}"))
            continue
        for record in records:
            try:
                papers.append(
                    make_paper(
                        path.name,
                        title=first(record, "title", "primary_title", "translated_title"),
                        abstract=first(record, "abstract", "notes_abstract"),
                        authors=first(record, "authors", "first_authors") or [],
                        date=first(record, "date", "year", "publication_year"),
                        venue=first(record, "secondary_title", "journal_name", "alternate_title3"),
                        doi=record.get("doi"),
                        urls=record.get("urls") or [],
                        keywords=record.get("keywords"),
                    )
                )
            except BadRecord as exc:
                warns.append(ParseWarning(path.name, line, f"record skipped: {exc}"))
    if text[start:].strip():
        warns.append(ParseWarning(path.name, start_line, "record without 'ER  -' end tag; skipped"))
    return papers
