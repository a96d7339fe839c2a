"""The flat metadata stored with every chunk (Chroma accepts scalars only): the one place that
writes it (:func:`paper_metadata`) and reads its list fields back (:func:`meta_list`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..types import Paper

#: How list fields are joined in the flat chunk metadata (Chroma stores scalars only). File
#: names may contain spaces, URLs may not: each field has its own separator, and only
#: :func:`meta_list` reads them back.
LIST_SEPARATORS = {"sources": "|", "urls": " "}


def meta_list(meta: Mapping[str, Any], field: str) -> list[str]:
    """A list field (``sources``, ``urls``) of chunk metadata written by :func:`paper_metadata`."""
    return [v for v in str(meta.get(field) or "").split(LIST_SEPARATORS[field]) if v]


def paper_metadata(paper: Paper) -> dict[str, str | int | float | bool | None]:
    """Flat, stable metadata stored with every chunk (Chroma accepts scalars only).

    Source files and categories become boolean flags (``src:<file>``, ``cat:<category>``) so
    they can be used as Chroma ``where`` filters.
    """
    meta: dict[str, str | int | float | bool | None] = {
        "paper_id": paper.id,
        "title": paper.title,
        "content_hash": paper.content_hash,
        "sources": LIST_SEPARATORS["sources"].join(paper.sources),
        "urls": LIST_SEPARATORS["urls"].join(paper.urls),
    }
    if paper.arxiv_id:
        meta["arxiv_id"] = paper.arxiv_id
    if paper.authors:
        meta["authors"] = paper.authors
    if paper.venue:
        meta["venue"] = paper.venue
    if paper.doi:
        meta["doi"] = paper.doi
    if paper.date:
        meta["date"] = paper.date
        if paper.date[:4].isdigit():
            meta["year"] = int(paper.date[:4])
    if paper.categories:
        meta["categories"] = " ".join(paper.categories)
    for source in paper.sources:
        meta[f"src:{source}"] = True
    for category in paper.categories:
        meta[f"cat:{category}"] = True
    return meta
