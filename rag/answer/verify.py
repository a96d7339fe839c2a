"""Stage 4 — verify the model's draft against the evidence and the plan.

1. Citations (:func:`citations.check_citations`): every sentence must be supported by a source
   it cites (or is attributed to); numbers and method names must occur in that source.
2. The plan: a sentence naming a work the question names must cite a paper that mentions it;
   a number must measure what the question (or one of its parts) asks; a quantity question
   whose checked answer states no number is *repaired* from the verified source sentence that
   holds the asked quantity (:func:`extractive.extract`), one asking two quantities gets the
   one the reply left out quoted from its paper; a comparison that leaves a compared work
   uncited gets that work's best sentence added.
3. Nothing surviving the check means abstention (the pipeline then quotes the sources where
   the reply was unverifiable). A refusal (``NOT_IN_CORPUS``) of a question the decision let
   through is answered from the sources' sentences where they answer it (for a quantity
   question, with a number that can be the asked one; "which paper" questions from the
   matching papers' quotes); else it is an abstention.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .citations import CheckedSentence, check_citations
from .evidence import EvidenceItem
from .extractive import extract
from .gather import Evidence
from .generate import Generator, contribution_names, cover, extractive_answer, identify
from .plan import Plan, asks_for_paper
from .question import asks_for_papers
from .sentences import split_sentences
from .support import SupportScorer
from .terms import (
    RELATIVE_TARGETS,
    bare_numbers,
    content_terms,
    has_relative_value,
    measure_terms,
    method_names,
    names_found,
    names_supported,
    singular,
    states_value,
)

SUPPORT_THRESHOLD = 0.45
_REFUSAL = re.compile(
    r"NOT_IN_CORPUS|not (in|covered by) the (corpus|sources|abstracts)"
    r"|(sources|abstracts|corpus|context)( provided)? (do|does) not (contain|provide|mention|include|say"
    r"|state|report|specify|answer)|no information (about|on|regarding)"
    r"|(is|are) not (mentioned|stated|specified|reported|provided|given) in",
    re.IGNORECASE,
)
_ONLY_MARKERS = re.compile(r"^[\s\[\]\d,;.:\-–]*$")


@dataclass(frozen=True)
class Verified:
    """The checked answer: what survived, what was removed, and how it was repaired."""

    sentences: tuple[CheckedSentence, ...]
    generator: Generator
    flagged: tuple[str, ...] = ()
    #: Why the final text is not the model's (e.g. ``missing_quantity``), or ``None``.
    fallback_reason: str | None = None
    #: Completions of the model's text (e.g. ``added_compared_work``).
    repairs: tuple[str, ...] = ()
    refused: bool = False

    @property
    def abstain(self) -> bool:
        """Nothing verifiable is left to say."""
        return not self.sentences


def expand_bare_markers(text: str, evidence: Evidence) -> str:
    """A reply made only of markers ("[1], [2][3]") points at papers: name them, so the
    citations can be checked like any sentence. A bare value with a marker ("36.5 [2]") is not
    such a reply: its digits outside brackets are a claim."""
    if not text or not _ONLY_MARKERS.match(text) or not re.search(r"\d", text):
        return text
    if re.search(r"\d", re.sub(r"\[[^\]]*\]", "", text)):
        return text
    by_marker = {item.marker: item for item in evidence.items}
    wanted = [int(n) for n in re.findall(r"\d+", text)]
    return " ".join(f"{by_marker[n].title} [{n}]." for n in dict.fromkeys(wanted) if n in by_marker)


def without_refusals(text: str) -> str:
    """The reply without sentences that say the sources do not answer, line by line (a numbered
    reply's "2." starts its own line, where the citation check reads it as a list number)."""
    lines = [[s for s in split_sentences(line) if not _REFUSAL.search(s)] for line in text.splitlines()]
    return "\n".join(" ".join(line) for line in lines if line)


def verify_llm(
    plan: Plan,
    evidence: Evidence,
    raw: str,
    scorer: SupportScorer,
    *,
    max_sentences: int,
    floor: float,
) -> Verified:
    """Check the model's ``raw`` reply (see the module docstring)."""
    raw = raw.strip()
    refused = not raw or raw.upper().startswith("NOT_IN_CORPUS")
    text = expand_bare_markers(without_refusals(raw), evidence)
    checked = check_citations(text, evidence.items, scorer, SUPPORT_THRESHOLD)
    flagged = tuple(checked.flagged)
    sentences = list(checked.sentences)

    def quoted(reason: str, query: str) -> Verified | None:
        picked = extract(query, evidence.items, max_sentences=max_sentences, min_relevance=floor)
        if not picked:
            return None
        return Verified(tuple(cover(plan, evidence, picked)), "extractive", flagged, reason, (), refused)

    sentences, dropped = _cite_the_named_work(plan, evidence, sentences)
    flagged = (*flagged, *dropped)
    if plan.quantity:
        sentences, dropped = _about_the_asked_quantity(plan, evidence, sentences)
        flagged = (*flagged, *dropped)
    if refused or not sentences:
        if plan.kind == "followup" and evidence.must_cover:
            # The paper is known from the conversation: its own sentences answer better than an
            # abstention (the model often refuses a pronoun-laden question it could answer).
            picked = extractive_answer(plan, evidence, max_sentences=max_sentences, floor=floor)
            if picked:
                return Verified(tuple(picked), "extractive", flagged, "model_no_answer", (), refused)
        if asks_for_papers(plan.question):
            # Small models often refuse "which paper ..." questions that retrieval answers; the
            # quotes of the matching papers cannot invent anything.
            found = quoted("model_no_answer", plan.question)
            if found is not None:
                return found
        if refused:
            declined = _declined_answer(plan, evidence, max_sentences=max_sentences, floor=floor)
            if declined:
                return Verified(declined, "extractive", flagged, "model_no_answer", (), refused)
        return Verified((), "llm", flagged, None, (), refused)
    if plan.quantity and not any(states_value(s.text) for s in sentences):
        found = quoted("missing_quantity", plan.question)
        if found is not None and any(states_value(s.text) for s in found.sentences):
            return found
    repairs: tuple[str, ...] = ()
    expanded = [_expand_bare(s, evidence) for s in sentences]
    if expanded != sentences:
        sentences, repairs = expanded, ("quoted_context",)
    answered = _answer_each_measure(plan, evidence, sentences)
    if len(answered) > len(sentences):
        sentences, repairs = answered, (*repairs, "answered_part")
    covered = cover(plan, evidence, sentences)
    if len(covered) > len(sentences):
        repairs = (*repairs, "added_compared_work")
    unnamed = _unnamed_paper(plan, evidence, covered)
    if unnamed is not None:
        covered, repairs = [*identify(unnamed, plan.question), *covered], (*repairs, "named_paper")
    return Verified(tuple(covered), "llm", flagged, None, repairs, refused)


def _names_paper(text: str, item: EvidenceItem) -> bool:
    """Whether ``text`` names the paper ``item``: by the name of its contribution or by most of
    its title's words."""
    own = {n.lower() for n in method_names(contribution_names(item))}
    if own and names_found(own, text):
        return True
    title = content_terms(item.title)
    return bool(title) and len(title & content_terms(text)) >= 0.6 * len(title)


def _unnamed_paper(plan: Plan, evidence: Evidence, sentences: list[CheckedSentence]) -> EvidenceItem | None:
    """For a lookup (which paper ...?), or a question one part of which asks which paper, the
    paper the reply cites first when the reply names none of the papers it cites ("The paper that
    trains models inside a random slice of their parameters is [1]."): a marker is not an answer
    to "which paper"; ``None`` otherwise."""
    if plan.kind != "lookup" and not any(asks_for_paper(part) for part in plan.parts):
        return None
    by_marker = {e.marker: e for e in evidence.items}
    cited = [by_marker[m] for s in sentences for m in s.markers if m in by_marker]
    if not cited or any(_names_paper(s.text, e) for s in sentences for e in cited):
        return None
    return cited[0]


def _declined_answer(
    plan: Plan, evidence: Evidence, *, max_sentences: int, floor: float
) -> tuple[CheckedSentence, ...]:
    """The sources' own sentences for a question the model declined, or ``()``.

    The model is asked only after the answer-or-abstain decision found the evidence answers
    the question, and a small model declines answerable questions it finds hard to phrase
    (several parts, typos, another language, a comparison): the extractive answer, which that
    decision was made for, is given instead. For a quantity question one quoted number must be
    able to be the asked quantity (checked as the model's are, :func:`_about_the_asked_quantity`):
    a paper that states other numbers does not answer "what BLEU score"."""
    picked = extractive_answer(plan, evidence, max_sentences=max_sentences, floor=floor)
    if plan.quantity:
        kept, _ = _about_the_asked_quantity(plan, evidence, picked)
        if not any(states_value(s.text) for s in kept):
            return ()
    return tuple(picked)


def _cite_the_named_work(
    plan: Plan, evidence: Evidence, sentences: list[CheckedSentence]
) -> tuple[list[CheckedSentence], tuple[str, ...]]:
    """Keep the sentences that, where they name a work the question names, cite a paper that
    mentions it. The citation check needs only one of a sentence's names in its source, so
    "DMT-JEPA was evaluated on LLMEval^2 [1]" passed with [1] an LLM-evaluator paper that names
    LLMEval^2 but not DMT-JEPA: the model had put another paper's content on the asked method.
    A sentence naming several asked works ("B, unlike A, ...") needs one of them in its source.

    A question about a paper's own work ("On which datasets was GNNPipe tested?", GNNPipe being
    what a retrieved paper introduces) is answered from the papers mentioning it, as the extractive
    answer is (:func:`extractive.select`): "The datasets tested were eight hypergraph datasets
    [1]", with [1] a hypergraph paper that never names GNNPipe, is another work's answer; so is
    "Pre-LN stabilizes training [1]" for "Mix-LN uses Pre-LN early and Post-LN deep - why?", with
    [1] a paper on Pre-LN that never names Mix-LN. (Names the question only uses, "Pre-LN", or
    gets wrong in a false premise, do not decide it.)"""
    asked = method_names(plan.question)
    if not asked:
        return sentences, ()
    works: set[str] = set()
    if plan.kind in ("fact", "summary"):
        # One text, a line per paper (a name never spans two papers' lines).
        works = names_found(asked, "\n".join(contribution_names(e) for e in evidence.items))
    by_marker = {e.marker: e for e in evidence.items}
    kept: list[CheckedSentence] = []
    dropped: list[str] = []
    for sentence in sentences:
        named = names_found(asked, sentence.text)
        items = [by_marker[m] for m in sentence.markers if m in by_marker]
        misnamed = bool(named) and not any(names_found(named, f"{e.title} {e.abstract}") for e in items)
        elsewhere = bool(works) and not any(names_found(works, f"{e.title} {e.abstract}") for e in items)
        if items and (misnamed or elsewhere):
            dropped.append(sentence.text)
        else:
            kept.append(sentence)
    return kept, tuple(dropped)


def _about_the_asked_quantity(
    plan: Plan, evidence: Evidence, sentences: list[CheckedSentence]
) -> tuple[list[CheckedSentence], tuple[str, ...]]:
    """For a quantity question, keep the sentences whose numbers can be the asked quantity: the
    cited paper mentions every method the question names (a number from a neighbouring paper is
    not VanillaNet's accuracy), and, when the question says what is measured ("training
    tokens"), a source sentence holding the number says it too (70M-7B *model sizes* are not
    training tokens). Sentences without numbers are left to the other checks."""
    by_marker = {e.marker: e for e in evidence.items}
    targets = plan.measures  # each asked measure (the first alone would drop the second's answer)
    one_ask = len(plan.parts) < 2
    if len(plan.measured_parts) < len(plan.parts):
        # A part that asks no measure ("how deep was the network, and what error reduction ...")
        # may be answered by any number its paper states ("20 layers").
        targets = (*targets, frozenset())
    kept: list[CheckedSentence] = []
    dropped: list[str] = []
    for sentence in sentences:
        values = bare_numbers(sentence.text)
        items = [by_marker[m] for m in sentence.markers if m in by_marker]
        if not values or not items:
            kept.append(sentence)
            continue
        ok = False
        for item in items:
            if not names_supported(plan.question, f"{item.title} {item.abstract}", require_all=True):
                continue
            holding = _holding(item, values)
            if any(not t or _says_measure(t, holding, item.sentences, one_ask) for t in targets):
                ok = True
        if ok:
            kept.append(sentence)
        else:
            dropped.append(sentence.text)
    return kept, tuple(dropped)


def _holding(item: EvidenceItem, values: set[str]) -> list[str]:
    """The sentences of ``item`` that state one of ``values``."""
    return [s for s in item.sentences if values & bare_numbers(s)]


def _says_measure(target: frozenset[str], holding: list[str], sentences: list[str], one_ask: bool) -> bool:
    """Whether a sentence in ``holding`` says what ``target`` measures; for a question asking one
    thing, as much of it as any sentence of the paper stating a value: asked the *per-digit*
    recognition accuracy, "96% accuracy in recognizing complete street numbers" measures accuracy
    too, but the paper's "per-digit recognition task ... 97.84% accuracy" is the asked one. (A
    question asking several things is answered by several sentences, each saying less.)"""
    wanted = singular(target)
    if wanted <= RELATIVE_TARGETS and any(has_relative_value(s) for s in holding):
        return True  # "how much faster", "by what percentage": a ratio or a % says it

    def said(sentence: str) -> int:
        return len(wanted & measure_terms(sentence))

    best = max((said(s) for s in holding), default=0)
    if not one_ask:
        return best > 0
    return best > 0 and best >= max((said(s) for s in sentences if states_value(s)), default=0)


def _answer_each_measure(
    plan: Plan, evidence: Evidence, sentences: list[CheckedSentence]
) -> list[CheckedSentence]:
    """A question asking two quantities ("how much faster ..., and how much cheaper ...?") whose
    answer states only one: the cited paper's sentence stating the other is added (the part the
    model left out, or wrote in words its source does not support, is in the paper it cites)."""
    if len(plan.measured_parts) < 2:
        return sentences
    by_marker = {e.marker: e for e in evidence.items}
    cited = [by_marker[m] for m in dict.fromkeys(m for s in sentences for m in s.markers) if m in by_marker]

    def says(target: frozenset[str], sentence: CheckedSentence) -> bool:
        values = bare_numbers(sentence.text)
        holding = [src for m in sentence.markers if m in by_marker for src in _holding(by_marker[m], values)]
        # In words: "1.71X faster" is a ratio, as "how much cheaper" asks, but says nothing of cost;
        # "24%" says the percentage asked.
        wanted = singular(target)
        return bool(values) and any(wanted & _named_measures(x) for x in [sentence.text, *holding])

    out = list(sentences)
    for j, target in plan.measured_parts:
        if not target or any(says(target, s) for s in out):
            continue
        candidates = [
            (item.part_relevance[j][i] if j < len(item.part_relevance) else item.relevance[i], item, i)
            for item in cited
            for i, src in enumerate(item.sentences)
            if states_value(src) and _says_measure(target, [src], [], one_ask=False)
        ]
        if candidates:
            score, item, i = max(candidates, key=lambda c: c[0])
            quote = item.sentences[i]
            if not any(quote in s.text for s in out):
                out.append(CheckedSentence(f"{item.title} — {quote}", [item.marker], score))
    return out


_PERCENTAGE = content_terms("percentage percent")


def _named_measures(text: str) -> frozenset[str]:
    """The measures ``text`` names in words (:func:`terms.measure_terms`); a "%" names the
    percentage."""
    return measure_terms(text) | (_PERCENTAGE if "%" in text else frozenset())


def _expand_bare(sentence: CheckedSentence, evidence: Evidence) -> CheckedSentence:
    """A reply that is only a value ("354K [1]") says nothing about what it measures: replace it
    with the cited paper's sentence that contains the value (verified, so the value is there)."""
    if len(content_terms(sentence.text)) > 1:
        return sentence
    wanted = bare_numbers(sentence.text)
    by_marker = {e.marker: e for e in evidence.items}
    for marker in sentence.markers:
        item = by_marker.get(marker)
        if item is None:
            continue
        bare = sentence.text.strip(" .")
        for text in item.sentences:
            if (wanted and wanted <= bare_numbers(text)) or (not wanted and bare in text):
                return CheckedSentence(f"{item.title} — {text}", [marker], sentence.support)
    return sentence
