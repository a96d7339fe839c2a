"""Typed records that flow through the pipeline: papers, chunks, search results."""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Paper:
    """One paper of the corpus (a title/abstract pair plus what we know about it)."""

    id: str
    title: str
    abstract: str
    sources: tuple[str, ...] = ()
    urls: tuple[str, ...] = ()
    authors: str | None = None
    categories: tuple[str, ...] = ()
    date: str | None = None
    arxiv_id: str | None = None

    @property
    def content_hash(self) -> str:
        """Hash of what gets indexed; a change means the paper must be re-embedded."""
        return hashlib.sha1(f"{self.title}\n{self.abstract}".encode()).hexdigest()[:16]

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict."""
        return asdict(self)


@dataclass(frozen=True)
class ParseWarning:
    """A problem with one record of an input file; the rest of the file is still read."""

    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


@dataclass(frozen=True)
class ChunkHit:
    """One retrieved chunk with its scores from each retriever (``None`` where absent)."""

    chunk_id: str
    paper_id: str
    text: str
    score: float
    dense_score: float | None = None
    lexical_score: float | None = None


@dataclass
class SearchResult:
    """One paper in a ranked search result, with its best chunks."""

    paper_id: str
    title: str
    score: float
    chunks: list[ChunkHit] = field(default_factory=list)
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def text(self) -> str:
        """The best chunk's text."""
        return self.chunks[0].text if self.chunks else ""

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict."""
        return {
            "paper_id": self.paper_id,
            "title": self.title,
            "score": self.score,
            "text": self.text,
            "chunks": [asdict(c) for c in self.chunks],
            "metadata": self.metadata,
        }


@dataclass
class Citation:
    """A cited paper. ``marker`` is the number used in the answer text (``[marker]``)."""

    marker: int
    paper_id: str
    title: str
    quote: str
    score: float
    url: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict."""
        return asdict(self)


@dataclass
class Answer:
    """An answer with verified citations.

    Every ``[n]`` marker in ``text`` resolves to exactly one entry of ``citations``.
    ``abstained`` is true when the corpus does not answer the question; ``sources`` then
    lists the closest papers. ``mode`` names the generator that answered; ``notice`` explains
    a fallback (e.g. the LLM endpoint was unreachable).
    """

    question: str
    text: str
    citations: list[Citation] = field(default_factory=list)
    abstained: bool = False
    sources: list[SearchResult] = field(default_factory=list)
    mode: str = "extractive"
    timings: dict[str, float] = field(default_factory=dict)
    notice: str | None = None
    flagged: list[str] = field(default_factory=list)
    standalone_question: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict."""
        return {
            "question": self.question,
            "standalone_question": self.standalone_question,
            "text": self.text,
            "citations": [c.to_dict() for c in self.citations],
            "abstained": self.abstained,
            "sources": [s.to_dict() for s in self.sources],
            "mode": self.mode,
            "timings": self.timings,
            "notice": self.notice,
            "flagged": self.flagged,
        }


@dataclass(frozen=True)
class StatusEvent:
    """Progress while answering (e.g. "retrieving", "starting the local model")."""

    message: str


@dataclass(frozen=True)
class TextDelta:
    """A piece of the answer text as it is generated (before citation checking)."""

    text: str


@dataclass(frozen=True)
class FinalAnswer:
    """The last event of a stream: the checked answer, which replaces the streamed text."""

    answer: Answer


AnswerEvent = StatusEvent | TextDelta | FinalAnswer
