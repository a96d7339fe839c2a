"""Citations are checked, not trusted.

The generated text is split into sentences. Each sentence keeps only markers that point at
evidence that was provided *and* supports it; a sentence without a valid supporting marker is
attributed post hoc to the evidence that supports it best; a sentence nothing supports (or
with a number absent from its sources) is removed and reported in ``flagged``. Markers are
then renumbered 1..n in order of first use, one per paper.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any

from ..index.metadata import meta_list
from ..types import Citation
from .evidence import EvidenceItem
from .sentences import split_sentences
from .support import SupportScorer, lexical_coverage, support_score
from .terms import bare_numbers, introduces

_MARKER = re.compile(r"\[(\d+(?:\s*(?:,|;|-|–)\s*\d+)*)\]")
#: A list item's bullet or number ("- ", "2. ", "3) "): no part of the claim. Read as a sentence,
#: "1." would be a bare value, and a value is checked against (and "repaired" from) the sources.
_ENUMERATOR = re.compile(r"^(?:[-*•]+|\(?\d{1,2}[.)])\s+")
_TRAILING_REFS = re.compile(r"\n\s*(sources|references|citations)\s*:.*$", re.IGNORECASE | re.DOTALL)


def parse_markers(sentence: str) -> tuple[str, list[int]]:
    """The sentence without markers, and the marker numbers it used (ranges expanded)."""
    numbers: list[int] = []
    text = sentence
    groups = _MARKER.findall(text)
    while groups:  # removing "[2]" from "[1[2]]" leaves a new marker "[1]": repeat until none
        for group in groups:
            for part in re.split(r"\s*[,;]\s*", group):
                bounds = re.split(r"\s*[-–]\s*", part)
                if len(bounds) == 2 and bounds[0].isdigit() and bounds[1].isdigit():
                    lo, hi = int(bounds[0]), int(bounds[1])
                    numbers.extend(range(lo, min(hi, lo + 20) + 1))
                elif part.isdigit():
                    numbers.append(int(part))
        text = _MARKER.sub("", text)
        groups = _MARKER.findall(text)
    text = re.sub(r"\s+([.,;:!?])", r"\1", text)
    return " ".join(text.split()), list(dict.fromkeys(numbers))


@dataclass
class CheckedSentence:
    """A sentence that survived checking, with the evidence markers that support it."""

    text: str
    markers: list[int]
    support: float


@dataclass
class CheckedAnswer:
    """Result of citation checking, before renumbering."""

    sentences: list[CheckedSentence] = field(default_factory=list)
    flagged: list[str] = field(default_factory=list)
    removed_markers: int = 0


def check_citations(
    text: str, evidence: list[EvidenceItem], scorer: SupportScorer, threshold: float
) -> CheckedAnswer:
    """Validate and attribute every sentence of ``text`` against ``evidence``."""
    by_marker = {item.marker: item for item in evidence}
    result = CheckedAnswer()
    text = _TRAILING_REFS.sub("", text.strip())
    for paragraph in text.splitlines():
        for raw in split_sentences(_ENUMERATOR.sub("", paragraph.strip()).strip()):
            clean, markers = parse_markers(raw)
            if not clean or not any(ch.isalnum() for ch in clean) or _ENUMERATOR.fullmatch(clean + " "):
                continue
            valid = list(dict.fromkeys(m for m in markers if m in by_marker))
            result.removed_markers += len(markers) - len(valid)
            scores = {m: _support(scorer, clean, by_marker[m]) for m in valid}
            kept = [m for m in valid if scores[m] >= threshold]
            if not kept:
                # "This variant is called ReCAT [1]." adds only the name the cited paper gives its
                # contribution: too short to match that sentence, and true if the paper says so.
                kept = [m for m in valid if _names_its_contribution(clean, by_marker[m])]
                scores.update(dict.fromkeys(kept, threshold))
            if not kept:
                # "A reaches 86.3 [1], while B reaches 82.9% [2]": each source holds one number,
                # so neither supports the sentence alone; together they do.
                kept, joint = _jointly(scorer, clean, [by_marker[m] for m in valid], threshold)
                scores.update(dict.fromkeys(kept, joint))
            if not kept:
                others = {
                    m: _support(scorer, clean, item) for m, item in by_marker.items() if m not in scores
                }
                scores.update(others)
                best = max(scores, key=scores.__getitem__, default=None)
                if best is not None and scores[best] >= threshold:
                    kept = [best]
                else:  # an uncited sentence combining two sources' numbers
                    pairs = combinations(sorted(by_marker), 2)
                    for pair in sorted(pairs, key=lambda p: -sum(scores.get(m, 0.0) for m in p)):
                        kept, joint = _jointly(scorer, clean, [by_marker[m] for m in pair], threshold)
                        if kept:
                            scores.update(dict.fromkeys(kept, joint))
                            break
            if kept:
                result.sentences.append(CheckedSentence(clean, kept, max(scores[m] for m in kept)))
            else:
                result.flagged.append(clean)
    return result


# "This variant is called ReCAT.", "It is known as 'EvoNorms'.": a sentence only naming what the
# answer described.
_CALLED = re.compile(
    r"^(?i:(?:this|that|the|it|which|such|our)\b[^.]{0,60}?\b(?:is|are|was|were)\s+"
    r"(?:called|named|dubbed|termed|known as|referred to as))\s+[\"'“]?(?P<name>[A-Z][\w-]*)[\"'”]?\s*[.!]?$"
)


def _names_its_contribution(claim: str, item: EvidenceItem) -> bool:
    """Whether ``claim`` only names what ``item``'s paper introduces ("We present ReCAT, a ...",
    "ReCAT: ..." as its title's lead)."""
    match = _CALLED.match(claim)
    if not match:
        return False
    name = match.group("name")
    return name == item.title_lead or introduces(name, f"{item.title}. {item.abstract}")


def _jointly(
    scorer: SupportScorer, claim: str, items: list[EvidenceItem], threshold: float
) -> tuple[list[int], float]:
    """The markers of ``items`` when together they support ``claim`` though none does alone:
    each holds a number of the claim the others lack, and all its numbers are theirs. Else
    ``([], 0.0)``."""
    wanted = bare_numbers(claim)
    if len(items) < 2 or not wanted:
        return [], 0.0
    held = [bare_numbers(" ".join([item.title, *item.sentences])) & wanted for item in items]
    if set().union(*held) != wanted:
        return [], 0.0
    if any(not h - set().union(*(o for j, o in enumerate(held) if j != i)) for i, h in enumerate(held)):
        return [], 0.0  # a source adding no number of its own is no part of the support
    joint = scorer.support(
        claim, [s for item in items for s in item.sentences], context=" ".join(item.title for item in items)
    )
    return ([item.marker for item in items], joint) if joint >= threshold else ([], 0.0)


def _support(scorer: SupportScorer, claim: str, item: EvidenceItem) -> float:
    return scorer.support(claim, item.sentences, context=item.title)


def _squeezed(text: str) -> str:
    return " ".join(text.split())


def best_quote(scorer: SupportScorer, claims: list[str], item: EvidenceItem) -> str:
    """The abstract sentence(s) that support the claims citing this paper.

    A claim that quotes an abstract sentence word for word (every extractive answer, a lookup's
    "Title — sentence") shows that sentence: the card quotes what the answer says. Any other
    claim (a model's paraphrase) shows the sentence closest to it in meaning."""
    if not claims:
        return item.selected_text
    sentences = [_squeezed(s) for s in item.sentences]
    picks: set[int] = set()
    paraphrased: list[str] = []
    for claim in claims:
        flat = _squeezed(claim)
        quoted = {i for i, s in enumerate(sentences) if len(s.split()) >= 3 and s.rstrip(".!?") in flat}
        if quoted:
            picks |= quoted
        else:
            paraphrased.append(claim)
    if paraphrased:
        # Meaning and shared words weighed as in the support score: the embedding alone put "We
        # hope that ... LeJEPA will reestablish ..." above the sentence a claim paraphrases.
        vectors = scorer.embedder.embed([*paraphrased, *item.sentences])
        sims = vectors[len(paraphrased) :] @ vectors[: len(paraphrased)].T  # (sentences, claims)
        for j, claim in enumerate(paraphrased):
            score = [
                support_score(float(sims[i, j]), lexical_coverage(claim, sentence))
                for i, sentence in enumerate(item.sentences)
            ]
            picks.add(max(range(len(score)), key=score.__getitem__))
    return " ".join(item.sentences[i] for i in sorted(picks))


def reference_data(item: EvidenceItem) -> dict[str, Any]:
    """Authors, year, arXiv id and URLs of an evidence item's paper (record, else chunk metadata)."""
    paper, meta = item.paper, item.result.metadata or {}
    date = (paper.date if paper else None) or str(meta.get("date") or "")
    year = meta.get("year")
    if not isinstance(year, int):
        year = int(date[:4]) if date[:4].isdigit() else None
    return {
        "authors": (paper.authors if paper else None)
        or (str(meta["authors"]) if meta.get("authors") else None),
        "year": year,
        "arxiv_id": (paper.arxiv_id if paper else None)
        or (str(meta["arxiv_id"]) if meta.get("arxiv_id") else None),
        "urls": paper.urls if paper else tuple(meta_list(meta, "urls")),
    }


def render(
    checked: list[CheckedSentence], evidence: list[EvidenceItem], scorer: SupportScorer
) -> tuple[str, list[Citation]]:
    """Answer text with markers renumbered by first use, and one Citation per cited paper."""
    by_marker = {item.marker: item for item in evidence}
    renumber: dict[int, int] = {}
    claims: dict[int, list[str]] = {}
    parts: list[str] = []
    for sentence in checked:
        new = []
        for old in sentence.markers:
            if old not in renumber:
                renumber[old] = len(renumber) + 1
            claims.setdefault(old, []).append(sentence.text)
            if renumber[old] not in new:
                new.append(renumber[old])
        body = sentence.text
        end = ""
        if body and body[-1] in ".!?":
            body, end = body[:-1], body[-1]
        parts.append(f"{body} {''.join(f'[{n}]' for n in sorted(new))}{end}")
    citations = [
        Citation(
            marker=new,
            paper_id=by_marker[old].paper_id,
            title=by_marker[old].title,
            quote=best_quote(scorer, claims[old], by_marker[old]),
            score=by_marker[old].result.score,
            url=by_marker[old].url,
            **reference_data(by_marker[old]),
        )
        for old, new in sorted(renumber.items(), key=lambda kv: kv[1])
    ]
    return " ".join(parts), citations


def markers_in(text: str) -> set[int]:
    """All marker numbers used in a rendered answer."""
    return {n for group in _MARKER.findall(text) for n in parse_markers(f"[{group}]")[1]}
