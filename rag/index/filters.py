"""Metadata filters shared by the dense and lexical retrievers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .metadata import meta_list


@dataclass(frozen=True)
class SearchFilters:
    """Restrict a search to papers from a source file, a year range, an arXiv category, an
    author or a venue (``author``/``venue``: case-insensitive, part of the name is enough)."""

    source: str | None = None
    category: str | None = None
    year_min: int | None = None
    year_max: int | None = None
    author: str | None = None
    venue: str | None = None

    @property
    def empty(self) -> bool:
        """True when nothing is filtered."""
        values = (self.source, self.category, self.year_min, self.year_max, self.author, self.venue)
        return all(v is None or v == "" for v in values)

    @property
    def needs_papers(self) -> bool:
        """Chroma's ``where`` cannot match part of a string: author/venue filters are sent as the
        list of paper ids that pass them (see :meth:`to_where`)."""
        return bool(self.author or self.venue)

    def to_where(self, papers: list[str] | None = None) -> dict[str, Any] | None:
        """The same filters as a Chroma ``where`` clause (passed through llama-index's
        ChromaVectorStore; its MetadataFilter type cannot express boolean flags). With an
        author/venue filter, ``papers`` are the ids that pass it (from the lexical index)."""
        items: list[dict[str, Any]] = []
        if self.needs_papers:
            items.append({"paper_id": {"$in": list(papers or []) or ["<no paper matches>"]}})
        if self.source:
            items.append({f"src:{self.source}": {"$eq": True}})
        if self.category:
            items.append({f"cat:{self.category}": {"$eq": True}})
        if self.year_min is not None:
            items.append({"year": {"$gte": self.year_min}})
        if self.year_max is not None:
            items.append({"year": {"$lte": self.year_max}})
        if not items:
            return None
        return items[0] if len(items) == 1 else {"$and": items}

    def matches(self, meta: dict[str, Any]) -> bool:
        """Whether a chunk's (lexical-index) metadata passes the filters."""
        if self.source and self.source not in meta_list(meta, "sources"):
            return False
        if self.category and self.category not in str(meta.get("categories", "")).split():
            return False
        if self.author and self.author.casefold() not in str(meta.get("authors") or "").casefold():
            return False
        if self.venue and self.venue.casefold() not in str(meta.get("venue") or "").casefold():
            return False
        year = meta.get("year")
        if self.year_min is not None and (year is None or int(year) < self.year_min):
            return False
        return not (self.year_max is not None and (year is None or int(year) > self.year_max))
