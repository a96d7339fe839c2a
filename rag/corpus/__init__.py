"""Corpus readers, merged and de-duplicated into one list of papers: listing pages (``.txt``),
arXiv metadata (``.jsonl``), BibTeX (``.bib``), RIS (``.ris``), CSL-JSON and OpenAlex
(``.json``, told apart by content), CSV/TSV. The same paper from several files or formats is
merged: same DOI, else same arXiv id, else same normalised title."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from ..types import Paper, ParseWarning
from .bibtex import read_bibtex
from .ids import normalize_title, paper_id
from .jsondocs import read_json
from .jsonl import read_jsonl
from .listing import read_listing
from .ris import read_ris
from .tabular import read_table

__all__ = [
    "Corpus",
    "load_corpus",
    "normalize_title",
    "paper_id",
    "read_bibtex",
    "read_json",
    "read_jsonl",
    "read_listing",
    "read_ris",
    "read_table",
]

log = logging.getLogger(__name__)
# ".json": CSL-JSON, OpenAlex, or the arXiv metadata snapshot (JSON Lines despite its suffix).
SUFFIXES: dict[str, Callable[..., list[Paper]]] = {
    ".txt": read_listing,
    ".jsonl": read_jsonl,
    ".json": read_json,
    ".bib": read_bibtex,
    ".ris": read_ris,
    ".csv": read_table,
    ".tsv": read_table,
}
MAX_WARNINGS_PER_FILE = 100


@dataclass
class Corpus:
    """Distinct papers plus every warning raised while reading them."""

    papers: list[Paper] = field(default_factory=list)
    warnings: list[ParseWarning] = field(default_factory=list)
    files: list[str] = field(default_factory=list)


def _inside(link: Path, root: Path) -> bool:
    try:
        return link.resolve(strict=True).is_relative_to(root)
    except (OSError, RuntimeError):  # dangling link or a loop
        return False


def _expand(paths: Iterable[Path], warnings: list[ParseWarning]) -> list[Path]:
    """The corpus files the user named: files as given, and the corpus files directly inside
    given folders. Inside a folder, hidden files, other suffixes and anything that is not a
    regular file are skipped, and a symbolic link is followed only if its target lies inside
    that folder. A file reached twice is read once."""
    files: list[Path] = []
    seen: dict[Path, Path] = {}

    def add(file: Path) -> None:
        real = file.resolve()
        if real in seen:
            warnings.append(ParseWarning(file.name, 0, f"same file as {seen[real]}; read once"))
            return
        seen[real] = file
        files.append(file)

    for path in map(Path, paths):
        if path.is_dir():
            root = path.resolve()
            for entry in sorted(path.iterdir()):
                if entry.name.startswith(".") or entry.suffix.lower() not in SUFFIXES:
                    continue
                if entry.is_symlink() and not _inside(entry, root):
                    why = f"symbolic link that leads outside {path} (or nowhere); not followed"
                    warnings.append(ParseWarning(entry.name, 0, why))
                    continue
                if not entry.is_file():
                    warnings.append(ParseWarning(entry.name, 0, "not a regular file; skipped"))
                    continue
                add(entry)
        elif path.is_file():
            add(path)
        elif path.exists():
            raise ValueError(f"corpus path {path} is neither a regular file nor a folder")
        else:
            raise FileNotFoundError(f"corpus path {path} does not exist")
    return files


def _merge(old: Paper, new: Paper, warnings: list[ParseWarning]) -> Paper:
    sources = tuple(dict.fromkeys(old.sources + new.sources))
    urls = tuple(dict.fromkeys(old.urls + new.urls))
    keep = old
    if new.abstract != old.abstract:
        # Listing pages truncate some abstracts: keep the longer text.
        keep = new if len(new.abstract) > len(old.abstract) else old
        warnings.append(
            ParseWarning(
                new.sources[0],
                0,
                f"{old.title[:60]!r} appears with a different abstract; kept the longer one",
            )
        )
    return replace(
        keep,
        sources=sources,
        urls=urls,
        authors=max((old.authors or "", new.authors or ""), key=len) or None,
        categories=old.categories or new.categories,
        date=old.date or new.date,
        arxiv_id=old.arxiv_id or new.arxiv_id,
        doi=old.doi or new.doi,
        venue=old.venue or new.venue,
        keywords=tuple(dict.fromkeys(old.keywords + new.keywords)),
    )


def load_corpus(
    paths: Iterable[Path], *, max_line_chars: int = 200_000, columns: Mapping[str, str] | None = None
) -> Corpus:
    """Read every corpus file under ``paths`` (files or folders) and de-duplicate papers.

    Only what ``paths`` names is read (see ``_expand``: folders are not searched recursively
    and links out of a folder are not followed). Raises ``FileNotFoundError`` for a path that
    does not exist and ``ValueError`` for a file whose format is unknown; problems inside a file
    (and unreadable or binary files) become warnings, at most ``MAX_WARNINGS_PER_FILE`` each.
    """
    corpus = Corpus()
    by_id: dict[str, Paper] = {}
    by_doi: dict[str, str] = {}
    by_arxiv: dict[str, str] = {}
    for file in _expand(paths, corpus.warnings):
        reader = SUFFIXES.get(file.suffix.lower())
        if reader is None:
            known = ", ".join(SUFFIXES)
            raise ValueError(f"{file}: unknown corpus format (expected one of {known})")
        found: list[ParseWarning] = []
        extra = {"columns": columns} if reader is read_table else {}
        try:
            papers = reader(file, max_line_chars=max_line_chars, warnings=found, **extra)
        except OSError as exc:
            found.append(ParseWarning(file.name, 0, f"cannot be read ({exc.strerror or exc}); skipped"))
            papers = []
        if not papers:
            found.append(ParseWarning(file.name, 0, "no papers found in this file"))
        if len(found) > MAX_WARNINGS_PER_FILE:
            more = len(found) - MAX_WARNINGS_PER_FILE
            found = found[:MAX_WARNINGS_PER_FILE]
            found.append(ParseWarning(file.name, 0, f"{more:,} more warnings for this file not shown"))
        corpus.warnings.extend(found)
        corpus.files.append(str(file))
        for paper in papers:
            # The same paper under another title spelling: same DOI or arXiv id.
            same = (paper.doi and by_doi.get(paper.doi)) or (paper.arxiv_id and by_arxiv.get(paper.arxiv_id))
            if same and same != paper.id:
                paper = replace(paper, id=same)
            prior = by_id.get(paper.id)
            merged = paper if prior is None else _merge(prior, paper, corpus.warnings)
            by_id[paper.id] = merged
            if merged.doi:
                by_doi.setdefault(merged.doi, merged.id)
            if merged.arxiv_id:
                by_arxiv.setdefault(merged.arxiv_id, merged.id)
    corpus.papers = list(by_id.values())
    for warning in corpus.warnings:
        log.warning("corpus: %s", warning)
    return corpus
