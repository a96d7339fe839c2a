"""Metadata filters shared by the dense and lexical retrievers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..index.metadata import meta_list


@dataclass(frozen=True)
class SearchFilters:
    """Restrict a search to papers from a source file, a year range or an arXiv category."""

    source: str | None = None
    category: str | None = None
    year_min: int | None = None
    year_max: int | None = None

    @property
    def empty(self) -> bool:
        """True when nothing is filtered."""
        return all(v is None for v in (self.source, self.category, self.year_min, self.year_max))

    def to_where(self) -> dict[str, Any] | None:
        """The same filters as a Chroma ``where`` clause (passed through llama-index's
        ChromaVectorStore; its MetadataFilter type cannot express boolean flags)."""
        items: list[dict[str, Any]] = []
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
        year = meta.get("year")
        if self.year_min is not None and (year is None or int(year) < self.year_min):
            return False
        return not (self.year_max is not None and (year is None or int(year) > self.year_max))
