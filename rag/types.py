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
    #: Reference fields from bibliographic formats (BibTeX, RIS, CSL-JSON, CSV, OpenAlex).
    doi: str | None = None
    venue: str | None = None
    keywords: tuple[str, ...] = ()

    @property
    def year(self) -> int | None:
        """The publication year, when the date starts with one."""
        return int(self.date[:4]) if self.date and self.date[:4].isdigit() else None

    @property
    def content_hash(self) -> str:
        """Hash of what gets indexed; a change means the paper must be re-embedded."""
        return hashlib.sha1(f"{self.title}\n{self.abstract}".encode()).hexdigest()[:16]

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict."""
        return asdict(self)


@dataclass(frozen=True)
class CollectionSummary:
    """What an index holds: how many papers, from which source files."""

    papers: int
    files: tuple[str, ...] = ()

    def describe(self, max_files: int = 4) -> str:
        """One phrase for headers and prompts: ``260 papers from 3 files (a.txt, b.txt, c.txt)``."""
        what = f"{self.papers:,} paper{'s' if self.papers != 1 else ''}"
        if not self.files:
            return what
        names = ", ".join(self.files[:max_files])
        if len(self.files) > max_files:
            names += f" and {len(self.files) - max_files} more"
        return f"{what} from {len(self.files)} file{'s' if len(self.files) != 1 else ''} ({names})"


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
    #: The paper's rank (1 = best) in the dense and in the lexical ranking; ``None`` where the
    #: paper was not among that retriever's candidates (or the retriever was not used).
    dense_rank: int | None = None
    lexical_rank: int | None = None

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
            "dense_rank": self.dense_rank,
            "lexical_rank": self.lexical_rank,
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
    #: Reference data of the paper (what the exports need), when the corpus has it.
    authors: str | None = None
    year: int | None = None
    arxiv_id: str | None = None
    urls: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict."""
        return {**asdict(self), "urls": list(self.urls)}


#: Why the final text is not the model's own, in words (for ``ModeInfo.explanation``).
FALLBACK_REASONS: dict[str, str] = {
    "llm_unavailable": "the language model was unavailable",
    "model_no_answer": "the model found no answer although retrieval found matching papers",
    "missing_quantity": "the model's reply lacked the asked number",
    "unverified": "the model's reply could not be verified against the sources",
}
#: Completions made to the model's text, in words.
REPAIRS: dict[str, str] = {
    "added_compared_work": "a compared work the model left uncited was added from its abstract",
    "quoted_context": "the model replied with a bare value, so the source sentence that states it is quoted",
    "answered_part": "a number the question asks that the model's reply left out is quoted from its paper",
    "named_paper": "the model's reply cited a paper without naming it, so the paper is quoted by its title",
}
#: Plans answered from retrieval's ranking without a model call, in words.
RETRIEVAL_PLANS: dict[str, str] = {
    "lookup": "a lookup is answered with the paper retrieval ranks highest, quoted",
    "list": "a list of papers is answered with every retrieved paper that matches, quoted",
}


@dataclass(frozen=True)
class ModeInfo:
    """How an answer was produced (``Answer.mode``).

    ``requested``: the answer mode asked for (``llm`` or ``extractive``); ``generator``: what
    wrote the final text — ``llm`` (the model, verified), ``extractive`` (quoted sentences),
    ``retrieval`` (a lookup/list answered from the ranking, quoted) or ``none`` (abstained);
    ``model``: the LLM that was asked, if any; ``kind``: the question kind the plan chose;
    ``fallback_reason``: a key of :data:`FALLBACK_REASONS` when ``llm`` was asked for but the text
    is not the model's; ``repairs``: keys of :data:`REPAIRS` applied to the model's text.
    """

    requested: str = "extractive"
    generator: str = "extractive"
    model: str | None = None
    kind: str = "summary"
    fallback_reason: str | None = None
    repairs: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        """Short label: ``llm:<model>``, ``extractive``, ``retrieval``, ``extractive (fallback)``."""
        if self.generator == "llm":
            name = (self.model or "").replace("\\", "/").rsplit("/", 1)[-1]
            return f"llm:{name}" if name else "llm"
        if self.fallback_reason:
            return f"{self.generator} (fallback)"
        return self.generator

    @property
    def explanation(self) -> str | None:
        """One sentence on why the answer looks the way it does, or ``None`` for a plain answer."""
        if self.fallback_reason:
            why = FALLBACK_REASONS.get(self.fallback_reason, self.fallback_reason)
            source = "quoted from the sources' sentences"
            return f"Answered {source} because {why}."
        if self.generator == "retrieval" and self.requested == "llm":
            return f"Answered without the model: {RETRIEVAL_PLANS.get(self.kind, self.kind)}."
        if self.repairs:
            return " ".join(f"{REPAIRS.get(r, r).capitalize()}." for r in self.repairs)
        return None

    def __str__(self) -> str:
        return self.label

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict (with the label and explanation)."""
        return {**asdict(self), "repairs": list(self.repairs), "label": self.label,
                "explanation": self.explanation}  # fmt: skip


@dataclass
class Answer:
    """An answer with verified citations.

    Every ``[n]`` marker in ``text`` resolves to exactly one entry of ``citations``.
    ``abstained`` is true when the corpus does not answer the question, when the search could not
    read it, or when no answer could be verified against the sources (cause ``unverified``: the
    model's reply failed verification and no sentence could be quoted instead);
    ``answerability["reason"]`` says why in words, ``answerability["cause"]`` as a key of
    ``rag.answer.answerable.REASONS``; ``sources`` then lists the closest papers.
    ``mode`` says how the answer was produced (:class:`ModeInfo`: generator, question kind,
    fallback reason, repairs); ``notice`` explains a fallback in words (e.g. the LLM endpoint was
    unreachable). ``plan`` is the answer plan as a dict (kind, what the
    answer had to contain).
    """

    question: str
    text: str
    citations: list[Citation] = field(default_factory=list)
    abstained: bool = False
    sources: list[SearchResult] = field(default_factory=list)
    mode: ModeInfo = field(default_factory=ModeInfo)
    timings: dict[str, float] = field(default_factory=dict)
    notice: str | None = None
    flagged: list[str] = field(default_factory=list)
    standalone_question: str | None = None
    plan: dict[str, Any] = field(default_factory=dict)
    #: The decision to answer or abstain: ``answerable``, ``probability``, ``threshold``,
    #: ``features``, ``reason`` (in words, when abstaining); ``None`` if retrieval never ran.
    answerability: dict[str, Any] | None = None
    #: Misspelled words of the question and what was searched for instead
    #: (``{"SpcaeEvo": "SpaceEvo"}``; see :mod:`rag.retrieve.spelling`).
    corrections: dict[str, str] = field(default_factory=dict)
    #: The English question that was answered, when the question was in another language and
    #: the model translated it (``llm`` mode; see :mod:`rag.answer.translate`).
    translation: str | None = None
    #: The question was in another language and searched with the multilingual encoder (the
    #: answer quotes the papers' English sentences; see :mod:`rag.embeddings.multilingual`).
    crosslingual: bool = False

    @property
    def translated_note(self) -> str | None:
        """What was searched for, for a translated question ("Translated for the search: ..."),
        or ``None``."""
        return f"Translated for the search: {self.translation}" if self.translation else None

    @property
    def corrected_note(self) -> str | None:
        """The spelling corrections in words ("Searched for SpaceEvo (you wrote SpcaeEvo)."), or
        ``None``."""
        if not self.corrections:
            return None
        fixes = ", ".join(f"{right} (you wrote {wrong})" for wrong, right in self.corrections.items())
        return f"Searched for {fixes}."

    @property
    def cited_paper_ids(self) -> list[str]:
        """Ids of the cited papers, in marker order (what a follow-up's ``history`` can carry)."""
        return [c.paper_id for c in self.citations]

    def as_history(self) -> list[dict[str, Any]]:
        """This turn as OpenAI-style messages for the next question's ``history``; the
        assistant message carries ``paper_ids`` so follow-ups resolve "it" to these papers."""
        return [
            {"role": "user", "content": self.question},
            {"role": "assistant", "content": self.text, "paper_ids": self.cited_paper_ids},
        ]

    def to_markdown(self) -> str:
        """The answer with ``[n]`` markers and a numbered reference list (title, year, arXiv id,
        link, and the quoted supporting sentence), numbered exactly like the markers."""
        from .export import answer_markdown

        return answer_markdown(self)

    def to_bibtex(self) -> str:
        """One BibTeX entry per cited paper, with a stable key (see :func:`rag.export.bibtex_key`)."""
        from .export import answer_bibtex

        return answer_bibtex(self)

    def to_csl_json(self) -> list[dict[str, Any]]:
        """The cited papers as CSL-JSON items (Zotero, Pandoc/citeproc), in marker order."""
        from .export import answer_csl_json

        return answer_csl_json(self)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict."""
        return {
            "question": self.question,
            "standalone_question": self.standalone_question,
            "text": self.text,
            "citations": [c.to_dict() for c in self.citations],
            "abstained": self.abstained,
            "sources": [s.to_dict() for s in self.sources],
            "mode": self.mode.to_dict(),
            "timings": self.timings,
            "notice": self.notice,
            "flagged": self.flagged,
            "plan": self.plan,
            "answerability": self.answerability,
            "corrections": self.corrections,
            "translation": self.translation,
            "crosslingual": self.crosslingual,
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
