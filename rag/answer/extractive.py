"""Extractive answers: the most relevant sentences of the top papers, cited. No LLM, instant,
faithful by construction (every sentence is quoted from its source)."""

from __future__ import annotations

import re

from .citations import CheckedSentence
from .evidence import EvidenceItem
from .question import asks_for_quantity, counts_a_name, quantity_target
from .terms import (
    RELATIVE_TARGETS,
    has_relative_value,
    measure_terms,
    method_names,
    names_supported,
    singular,
    states_value,
)

MAX_PER_PAPER = 2
RELATIVE_CUTOFF = 0.8
#: "Code is available at https://...", "Our code and models will be released.": a sentence that
#: only says where the code is answers no question about the paper.
_AVAILABILITY = re.compile(
    r"^\W*(?:(?:our|the|all) )?(?:\w+ )?(?:code|codes|implementation|models?|weights|checkpoints)"
    r"(?: (?:and|&) \w+)?(?: \w+)? (?:is|are|will be|has been|have been)"
    r" (?:now |publicly |freely |made |also )*"
    r"(?:available|released|open[- ]sourced)\b(?:[^.]*(?:https?://|github|\bat\s*$)|\W*(?:online|upon request"
    r"|at|here|publicly|to the public)?\W*$)"
    r"|^\W*(?:code|project page|website|github)\s*:",
    re.IGNORECASE,
)
_ASKS_FOR_CODE = re.compile(
    r"\b(?:code|github|repository|repo|implementation|available|released?|open[- ]sourced?|url|link)\b",
    re.IGNORECASE,
)


#: A picked sentence: (relevance, its paper's evidence item, index of the sentence in the item).
Pick = tuple[float, EvidenceItem, int]


def extract(
    question: str, evidence: list[EvidenceItem], *, max_sentences: int, min_relevance: float
) -> list[CheckedSentence]:
    """Pick sentences answering ``question`` with the default policy (see :func:`select`) and
    quote them (:func:`quote_picks`); an empty list means "the corpus does not say"."""
    return quote_picks(select(question, evidence, max_sentences=max_sentences, min_relevance=min_relevance))


def select(
    question: str,
    evidence: list[EvidenceItem],
    *,
    max_sentences: int,
    min_relevance: float,
    relative_cutoff: float = RELATIVE_CUTOFF,
    max_per_paper: int = MAX_PER_PAPER,
    resolved: bool = False,
) -> list[Pick]:
    """The sentences answering ``question``, best first; empty means "the corpus does not say".

    A paper qualifies only if it mentions one of the method names in the question (if any).
    For a question asking for a quantity, a sentence qualifies only if it contains a number and
    a word naming what is measured (e.g. "tokens" for "How many training tokens ...") and comes
    from a paper that mentions every method name of the question; the sentences naming most of
    the measure's words are picked first.

    ``resolved``: the evidence is already known to be the paper asked about (one compared work
    of a comparison), so its sentences are not held to the *other* works' method names.
    """
    quantity = asks_for_quantity(question)
    target = singular(quantity_target(question)) if quantity else frozenset()
    # "How many parameters does NAME have?" in words we cannot match to the measure (another
    # language: "Wie viele Parameter hat ..."), or with only the measure's name readable
    # ("hoeveel FPS haalt die?"): the named paper's sentences with a number (and that name) are
    # the candidates, however little else they share with the question.
    unreadable = quantity and (not target or counts_a_name(question))
    floor = 0.0 if unreadable and method_names(question) else min_relevance
    skip = None if _ASKS_FOR_CODE.search(question) else _AVAILABILITY
    candidates: list[Pick] = [
        (score, item, i)
        for item in evidence
        if resolved or names_supported(question, f"{item.title} {item.abstract}")
        for i, score in enumerate(item.relevance)
        if score >= floor and not (skip and skip.search(item.sentences[i]))
    ]
    if quantity:
        relative = bool(target) and target <= singular(RELATIVE_TARGETS)
        coverage = {
            # "how much faster": a ratio or percentage is the measure ("1.71X speedup").
            (item.marker, i): int(has_relative_value(item.sentences[i]))
            if relative
            else len(target & measure_terms(item.sentences[i]))
            for _, item, i in candidates
        }
        candidates = [
            (score, item, i)
            for score, item, i in candidates
            if states_value(item.sentences[i])
            and (not target or coverage[item.marker, i])
            and (resolved or names_supported(question, f"{item.title} {item.abstract}", require_all=True))
        ]
        # The sentences naming most of the asked measure ("per-digit recognition accuracy")
        # state its value: they come first, whatever their similarity to the whole question.
        most = max((coverage[item.marker, i] for _, item, i in candidates), default=0)
        first = {(item.marker, i) for _, item, i in candidates if coverage[item.marker, i] == most}
    else:
        first = set()
    if not candidates:
        return []
    candidates.sort(key=lambda c: (((c[1].marker, c[2]) in first), c[0]), reverse=True)
    best = max(score for score, _, _ in candidates)
    picked: list[Pick] = []
    per_paper: dict[int, int] = {}
    for score, item, i in candidates:
        if len(picked) >= max_sentences:
            break
        if (item.marker, i) not in first and score < relative_cutoff * best:
            continue
        if per_paper.get(item.marker, 0) >= max_per_paper:
            continue
        per_paper[item.marker] = per_paper.get(item.marker, 0) + 1
        picked.append((score, item, i))
    return picked


def quote_picks(picked: list[Pick]) -> list[CheckedSentence]:
    """The picked sentences quoted and cited: grouped by paper (in order of each paper's first
    pick), in abstract order within a paper, each group opened by the paper's title."""
    order = list(dict.fromkeys(item.marker for _, item, _ in picked))
    picked = sorted(picked, key=lambda c: (order.index(c[1].marker), c[2]))
    out: list[CheckedSentence] = []
    for n, (score, item, i) in enumerate(picked):
        text = item.sentences[i]
        if n == 0 or picked[n - 1][1].marker != item.marker:
            text = f"{item.title} — {text}"  # say which paper each group of sentences is from
        out.append(CheckedSentence(text, [item.marker], score))
    return out
