"""Corpus readers: listing pages (``.txt``) and arXiv metadata (``.jsonl``), merged and
de-duplicated into one list of papers."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path

from ..types import Paper, ParseWarning
from .ids import normalize_title, paper_id
from .jsonl import read_jsonl
from .listing import read_listing

__all__ = ["Corpus", "load_corpus", "normalize_title", "paper_id", "read_jsonl", "read_listing"]

log = logging.getLogger(__name__)
SUFFIXES = {".txt": read_listing, ".jsonl": read_jsonl, ".json": read_jsonl}


@dataclass
class Corpus:
    """Distinct papers plus every warning raised while reading them."""

    papers: list[Paper] = field(default_factory=list)
    warnings: list[ParseWarning] = field(default_factory=list)
    files: list[str] = field(default_factory=list)


def _expand(paths: Iterable[Path]) -> list[Path]:
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(sorted(p for p in path.iterdir() if p.suffix in SUFFIXES))
        elif path.is_file():
            files.append(path)
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
        authors=old.authors or new.authors,
        categories=old.categories or new.categories,
        date=old.date or new.date,
        arxiv_id=old.arxiv_id or new.arxiv_id,
    )


def load_corpus(paths: Iterable[Path], *, max_line_chars: int = 200_000) -> Corpus:
    """Read every corpus file under ``paths`` (files or folders) and de-duplicate papers.

    Raises ``FileNotFoundError`` for a path that does not exist and ``ValueError`` for a file
    whose format is unknown; problems inside a file become warnings.
    """
    corpus = Corpus()
    by_id: dict[str, Paper] = {}
    for file in _expand(paths):
        reader = SUFFIXES.get(file.suffix)
        if reader is None:
            raise ValueError(f"{file}: unknown corpus format (expected .txt listing or .jsonl)")
        papers = reader(file, max_line_chars=max_line_chars, warnings=corpus.warnings)
        if not papers:
            corpus.warnings.append(ParseWarning(file.name, 0, "no papers found in this file"))
        corpus.files.append(str(file))
        for paper in papers:
            prior = by_id.get(paper.id)
            by_id[paper.id] = paper if prior is None else _merge(prior, paper, corpus.warnings)
    corpus.papers = list(by_id.values())
    for warning in corpus.warnings:
        log.warning("corpus: %s", warning)
    return corpus
