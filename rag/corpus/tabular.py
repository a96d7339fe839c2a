"""Reader for spreadsheets: CSV and TSV (a Zotero CSV export, a hand-made list).

Columns are found by name, case-insensitively: ``title``, ``abstract`` (also Zotero's
"Abstract Note"), ``authors``/``author``, ``year``/``date``/"Publication Year", ``venue``/
``journal``/"Publication Title", ``doi``, ``url``, ``keywords``/"Manual Tags". Other names are
mapped with ``corpus.columns`` (``scholium ingest --map title=Paper,abstract=Summary``).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from pathlib import Path

from ..types import Paper, ParseWarning
from .records import BadRecord, make_paper, read_text

#: Field → header names tried in order (lower-cased).
COLUMNS: dict[str, tuple[str, ...]] = {
    "title": ("title", "paper title", "article title"),
    "abstract": ("abstract", "abstract note", "summary"),
    "authors": ("authors", "author", "creators"),
    "date": ("date", "year", "publication year", "published"),
    "venue": ("venue", "journal", "publication title", "booktitle", "conference", "source title"),
    "doi": ("doi",),
    "arxiv_id": ("arxiv", "arxiv id", "arxiv_id", "eprint"),
    "url": ("url", "link"),
    "keywords": ("keywords", "manual tags", "tags", "author keywords"),
}


def read_table(
    path: Path,
    *,
    max_line_chars: int = 200_000,
    warnings: list[ParseWarning] | None = None,
    columns: Mapping[str, str] | None = None,
) -> list[Paper]:
    """Parse a ``.csv``/``.tsv`` file (a BOM is fine); rows without title/abstract are reported."""
    warns: list[ParseWarning] = [] if warnings is None else warnings
    text = read_text(path, max_line_chars, warns)
    delimiter = "\t" if path.suffix.lower() == ".tsv" else ","
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=delimiter)
    try:
        header = [h.strip().lower() for h in next(reader)]
    except (StopIteration, csv.Error):
        return []
    wanted = {k.lower(): v.strip().lower() for k, v in (columns or {}).items()}
    unknown = set(wanted) - set(COLUMNS)
    if unknown:
        raise ValueError(f"--map: unknown field(s) {sorted(unknown)}; known: {', '.join(COLUMNS)}")
    where: dict[str, int] = {}
    for field, names in COLUMNS.items():
        for name in (wanted[field],) if field in wanted else names:
            if name in header:
                where[field] = header.index(name)
                break
    missing = [f for f in ("title", "abstract") if f not in where]
    if missing:
        warns.append(
            ParseWarning(
                path.name,
                1,
                f"no {' or '.join(missing)} column (header: {', '.join(header)[:200]}); "
                "name it with --map, e.g. --map title=Paper,abstract=Summary",
            )
        )
        return []
    papers = []
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            warns.append(ParseWarning(path.name, reader.line_num, f"bad CSV row: {exc}"))
            continue
        if not any(cell.strip() for cell in row):
            continue

        def cell(field: str, row: list[str] = row) -> str | None:
            index = where.get(field)
            return row[index] if index is not None and index < len(row) else None

        written = cell("authors") or ""
        # Zotero: "Last, First; Last, First"
        authors: str | list[str] = [a.strip() for a in written.split(";")] if ";" in written else written
        try:
            papers.append(
                make_paper(
                    path.name,
                    title=cell("title"),
                    abstract=cell("abstract"),
                    authors=authors,
                    date=cell("date"),
                    venue=cell("venue"),
                    doi=cell("doi"),
                    arxiv_id=cell("arxiv_id"),
                    urls=[cell("url") or ""],
                    keywords=cell("keywords"),
                )
            )
        except BadRecord as exc:
            warns.append(ParseWarning(path.name, reader.line_num, f"row skipped: {exc}"))
    return papers
