"""Evidence first: after retrieval, pick each paper's most relevant sentences and number the
papers, within a token budget. The model sees this numbered evidence, not raw dumps."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

from ..tokens import count_tokens
from ..types import Paper, SearchResult
from .sanitize import looks_like_instruction, neutralize
from .sentences import split_sentences
from .support import SupportScorer

log = logging.getLogger(__name__)


@dataclass
class EvidenceItem:
    """One retrieved paper as numbered evidence."""

    marker: int
    result: SearchResult
    title: str
    sentences: list[str]
    relevance: list[float]
    selected: list[int] = field(default_factory=list)
    #: Relevance of each sentence to each part of a question that asks several things
    #: (``Plan.parts``), in part order; empty for a one-part question.
    part_relevance: tuple[list[float], ...] = ()
    url: str | None = None
    #: The full paper record (for references: authors, date, arXiv id, all URLs), if known.
    paper: Paper | None = None

    @property
    def paper_id(self) -> str:
        """The paper's id."""
        return self.result.paper_id

    @property
    def title_lead(self) -> str:
        """The name a title leads with ("GNNPipe" of "GNNPipe: Scaling Deep GNN Training ..."),
        "" when the title has none."""
        return self.title.split(":")[0].strip() if ":" in self.title else ""

    @property
    def best_relevance(self) -> float:
        """Relevance of the paper's best sentence to the question."""
        return max(self.relevance, default=0.0)

    @property
    def selected_text(self) -> str:
        """The chosen sentences, in abstract order."""
        return " ".join(self.sentences[i] for i in self.selected)

    @property
    def abstract(self) -> str:
        """All sentences (the whole abstract, or the retrieved chunks if it is unknown)."""
        return " ".join(self.sentences)


def _sentences_of(result: SearchResult, paper: Paper | None) -> list[str]:
    """The paper's sentences that can serve as evidence: sentences that give orders to the
    assistant (prompt injection planted in the corpus) are not evidence, so they are never shown
    to the model, quoted, or used to support a claim."""
    if paper is not None:
        sentences = split_sentences(paper.abstract)
    else:
        seen: dict[str, None] = {}
        for chunk in result.chunks:
            for sentence in split_sentences(chunk.text):
                seen.setdefault(sentence, None)
        sentences = list(seen)
    kept = [s for s in sentences if not looks_like_instruction(s)]
    if len(kept) < len(sentences):
        log.info(
            "paper %s: %d sentence(s) that read as orders to the assistant left out of the evidence",
            result.paper_id,
            len(sentences) - len(kept),
        )
    return kept


def select_evidence(
    question: str,
    results: list[SearchResult],
    papers: dict[str, Paper],
    scorer: SupportScorer,
    *,
    sentences_per_paper: int,
    token_budget: int,
    also: Sequence[str] = (),
    parts: Sequence[str] = (),
) -> list[EvidenceItem]:
    """Number the papers (in retrieval order) and pick their best sentences for ``question``
    (each sentence scored by its best match to ``question`` or to one of ``also``: the readable
    part of a question in another language, a list question's topics).

    Papers are added while the evidence fits in ``token_budget`` cl100k tokens. Each sentence is
    also scored against each of the question's ``parts`` (:attr:`EvidenceItem.part_relevance`).
    """
    per_paper = [_sentences_of(r, papers.get(r.paper_id)) for r in results]
    flat = [s for sentences in per_paper for s in sentences]
    scores = scorer.relevance(question, flat)
    for other in dict.fromkeys(also):
        if other and other != question and flat:
            scores = [max(a, b) for a, b in zip(scores, scorer.relevance(other, flat), strict=True)]
    by_part = [scorer.relevance(part, flat) for part in parts] if flat else []
    items: list[EvidenceItem] = []
    used = 0
    offset = 0
    for result, sentences in zip(results, per_paper, strict=True):
        relevance = scores[offset : offset + len(sentences)]
        part_relevance = tuple(p[offset : offset + len(sentences)] for p in by_part)
        offset += len(sentences)
        if not sentences:
            continue
        ranked = sorted(range(len(sentences)), key=lambda i: relevance[i], reverse=True)
        paper = papers.get(result.paper_id)
        title = paper.title if paper else result.title
        item = EvidenceItem(
            marker=len(items) + 1,
            result=result,
            title=title,
            sentences=sentences,
            relevance=relevance,
            selected=sorted(ranked[:sentences_per_paper]),
            url=(paper.urls[0] if paper and paper.urls else None),
            paper=paper,
            part_relevance=part_relevance,
        )
        cost = count_tokens(render_item(item))
        if items and used + cost > token_budget:
            break
        items.append(item)
        used += cost
    return items


def render_item(item: EvidenceItem) -> str:
    """How one evidence item appears in the prompt: corpus text is data, so chat-template
    control tokens and role labels inside it are neutralised (``sanitize.neutralize``)."""
    return f"[{item.marker}] {neutralize(item.title)}\n{neutralize(item.selected_text)}"


def render_evidence(items: list[EvidenceItem]) -> str:
    """The numbered evidence block (the fence tags are neutralised inside the text too)."""
    body = "\n\n".join(render_item(i) for i in items)
    return body.replace("<sources>", "(sources)").replace("</sources>", "(/sources)")
