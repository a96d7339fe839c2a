"""Metadata filters shared by the dense and lexical retrievers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from llama_index.core.vector_stores import (
    FilterCondition,
    FilterOperator,
    MetadataFilter,
    MetadataFilters,
)


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

    def to_llama(self) -> MetadataFilters | None:
        """The same filters for llama-index's vector store query (→ Chroma ``where``)."""
        items: list[MetadataFilter | MetadataFilters] = []
        if self.source:
            items.append(MetadataFilter(key=f"src:{self.source}", value=True))
        if self.category:
            items.append(MetadataFilter(key=f"cat:{self.category}", value=True))
        if self.year_min is not None:
            items.append(MetadataFilter(key="year", value=self.year_min, operator=FilterOperator.GTE))
        if self.year_max is not None:
            items.append(MetadataFilter(key="year", value=self.year_max, operator=FilterOperator.LTE))
        return MetadataFilters(filters=items, condition=FilterCondition.AND) if items else None

    def matches(self, meta: dict[str, Any]) -> bool:
        """Whether a chunk's (lexical-index) metadata passes the filters."""
        if self.source and self.source not in str(meta.get("sources", "")).split("|"):
            return False
        if self.category and self.category not in str(meta.get("categories", "")).split():
            return False
        year = meta.get("year")
        if self.year_min is not None and (year is None or int(year) < self.year_min):
            return False
        return not (self.year_max is not None and (year is None or int(year) > self.year_max))
