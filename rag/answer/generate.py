"""Stage 3 — generate a draft: from retrieval's ranking, from the sources' sentences, or by the LLM.

- ``lookup`` (both modes): the answer *is* the paper retrieval ranks highest, quoted with its best
  supporting sentence; when the two retrievers disagree about the first paper, the runner-up is
  named too. No model call: a small model picking another candidate than a confident ranking was
  the most common lookup error, and it costs seconds.
- ``list`` (both modes): every retrieved paper the membership model lists (:mod:`membership`:
  sentence relevance and retrieval ranks, fitted on dev), each quoted like a lookup answer: its
  best sentence and the sentence naming its contribution.
- other kinds: the LLM writes from the numbered evidence (``llm`` mode; the prompt carries the
  plan's guidance, e.g. "state the number", and the parts of a question that asks several
  things), or the most relevant sentences are quoted (``extractive`` mode,
  :func:`extractive.select`), plus the best sentence for each part of such a question; a
  comparison quotes what each compared work proposes and answers each part from each work; a
  question asking which datasets/benchmarks/tasks quotes the sentence that names them.

Drafts from retrieval or quotes are cited by construction; LLM drafts go to :mod:`verify`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Literal

from .answerable import FOLLOWUP_RELAXATION
from .citations import CheckedSentence
from .evidence import EvidenceItem, render_evidence
from .extractive import MAX_PER_PAPER, Pick, quote_picks, select
from .gather import Evidence
from .membership import members
from .plan import Plan, asks_for_paper
from .prompts import load_prompt
from .question import asks_for_reported_results
from .sanitize import neutralize_tokens
from .terms import bare_numbers, introduces, item_names, method_names, names_supported

Generator = Literal["llm", "extractive", "retrieval"]
#: A lookup names the runner-up too when retrieval is not confident and its best sentence scores
#: at least this share of the first paper's.
RUNNER_UP_RELATIVE = 0.8
#: The share of the sentence floor a paper both retrievers rank first must reach to be listed.
CONFIDENT_RELAXATION = 0.6
#: The sentence that states a paper's contribution ("we propose X"): a lookup quotes it too, since
#: it names the method the user is looking for.
_CONTRIBUTION = re.compile(
    r"\b(we|this (paper|work|study|thesis)|here,? we)\s+(\w+\s+)?(propose|introduce|present|develop"
    r"|design|call|name|term|dub)\w*\b"
    r"|\bour\s+(\w+\s+)?contributions?\b",  # "Our contribution in this work is a new ..."
    re.IGNORECASE,
)

#: "We introduce PJAX", "we present Miras, a ...", "We denote the method ... as JEPA-SCORE": a
#: contribution verb and, soon after, the capitalised name it gives.
_NAMING = re.compile(
    r"(?:\b(?i:we|this (?:paper|work|study))\s+(?:\w+\s+){0,2}?"
    r"(?:(?:introduce|propose|present|develop|call|term|dub|name|denote)[sd]?|discover(?:s|ed)?)\b"
    # "Our method leads to the discovery of EvoNorms, a set of new ... layers".
    r"|\b(?i:(?:leads?|led) to the discovery of)\b)"
    r"[^.;:]{0,40}?(?<![\w-])([A-Z][\w-]*)",
)


@dataclass(frozen=True)
class Draft:
    """A draft answer: cited sentences (retrieval/extractive) or the model's raw text."""

    generator: Generator
    sentences: tuple[CheckedSentence, ...] = ()
    raw: str | None = None


def _best_pick(item: EvidenceItem) -> Pick:
    """The paper's sentence most relevant to the question, as a pick."""
    i = max(range(len(item.sentences)), key=item.relevance.__getitem__)
    return item.relevance[i], item, i


def best_sentence(item: EvidenceItem) -> tuple[str, float]:
    """The paper's sentence most relevant to the question, and its relevance."""
    score, _, i = _best_pick(item)
    return item.sentences[i], score


def _quote(item: EvidenceItem, prefix: str = "") -> CheckedSentence:
    sentence, score = best_sentence(item)
    return CheckedSentence(f"{prefix}{item.title} — {sentence}", [item.marker], score)


def _eligible(plan: Plan, evidence: Evidence, floor: float) -> list[EvidenceItem]:
    """Evidence items that pass ``floor`` and mention a method name the question uses (if any)."""
    return [
        e
        for e in evidence.items
        if e.best_relevance >= floor and names_supported(plan.question, f"{e.title} {e.abstract}")
    ]


def confident(item: EvidenceItem) -> bool:
    """Whether both retrievers put this paper first (dense and lexical agree)."""
    return item.result.dense_rank == 1 and item.result.lexical_rank == 1


#: "Linear State-Space Layer (LSSL)": a word and the acronym introduced after it (two capitals at
#: least; a plural such as "(CNNs)" introduces the name of a kind of thing, not of a contribution).
_INTRODUCED_ACRONYM = re.compile(r"[A-Za-z][\w-]*\s+\(([A-Z][A-Za-z0-9-]*[A-Z][A-Za-z0-9-]*)(?<![A-Z]s)\)")


def _coins(sentences: list[str], i: int, asked: str) -> bool:
    """Whether sentence ``i`` introduces an acronym that the question does not use and that the
    abstract uses again after it (the name it gives its contribution)."""
    for acronym in _INTRODUCED_ACRONYM.findall(sentences[i]):
        if acronym.lower() in asked:
            continue
        used = re.compile(rf"(?<![\w-]){re.escape(acronym)}s?(?![\w-])")
        if any(used.search(s) for s in sentences[i + 1 :]):
            return True
    return False


#: "What does Mix-LN propose ...?", "what simple fix do they propose?": asks for the contribution.
_ASKS_PROPOSED = re.compile(
    r"\bwhat\b[^?.]{0,80}\b(propos|introduc|present|suggest)(?:e|es|ed|s)?\b", re.IGNORECASE
)

#: "The ByteNet is a one-dimensional convolutional neural network ...": a sentence defining a name.
_DEFINED_NAME = re.compile(r"^(?:The |Our )?([A-Z][\w-]+) (?:is|are) (?:a|an)\b")


def _defines_name(sentences: list[str], i: int, asked: str) -> bool:
    """Whether sentence ``i`` defines a method name ("The ByteNet is a ...") that the question
    does not use and that the abstract uses again after it."""
    found = _DEFINED_NAME.match(sentences[i])
    if not found or not method_names(found.group(1)) or found.group(1).lower() in asked:
        return False
    used = re.compile(rf"(?<![\w-]){re.escape(found.group(1))}(?![\w-])")
    return any(used.search(s) for s in sentences[i + 1 :])


def _claim(item: EvidenceItem, question: str) -> int | None:
    """The sentence stating the paper's contribution, preferably the one that names it."""
    claims = [i for i, s in enumerate(item.sentences) if _CONTRIBUTION.search(s)]
    # The sentence that gives the method its name ("We introduce PJAX, ...", "we propose Telly")
    # says what the user is looking for; a name the question already used tells nothing new.
    asked = question.lower()
    named = [
        i
        for i, s in enumerate(item.sentences)
        if any(n.lower() not in asked for n in _NAMING.findall(s))
        or (method_names(s) - method_names(question) and i in claims)
    ]
    # With no sentence naming it so, the paper names its contribution by introducing the acronym
    # it then keeps using: "We introduce a simple sequence model ... . The Linear State-Space
    # Layer (LSSL) maps ...", or by defining the name: "We present a novel neural network for
    # processing sequences. The ByteNet is a ...". Background terms come before the contribution.
    if not named and claims:
        named = [
            i
            for i in range(claims[0], len(item.sentences))
            if _coins(item.sentences, i, asked) or _defines_name(item.sentences, i, asked)
        ]
    # Of several naming sentences ("which we call the mallocGame", "we also introduce an agent,
    # mallocMuZero"), the one closest to the question names what the user describes; asked
    # "what fix do they propose?", one saying "we propose" comes first ("we introduce the Curse
    # of Depth, a concept ..." names the problem, "we propose LayerNorm Scaling" the fix).
    if named:
        asked_verb = _ASKS_PROPOSED.search(question)
        verb = asked_verb.group(1).lower() if asked_verb else None

        def says_verb(i: int) -> bool:
            return verb is not None and re.search(rf"\b{verb}", item.sentences[i], re.IGNORECASE) is not None

        return max(named, key=lambda i: (says_verb(i), item.relevance[i], -i))
    return next(iter(claims), None)


def contribution_names(item: EvidenceItem) -> str:
    """Where a paper names its own contribution: its title's lead ("GNNPipe: Scaling ...") and
    the names it says it introduces ("we propose LayerNorm Scaling"), not the ones it only uses
    ("Pre-LN", "LLMs")."""
    return " ".join([item.title_lead, *(n for s in item.sentences for n in _NAMING.findall(s))])


def _introduces_asked(item: EvidenceItem, question: str) -> int | None:
    """The sentence that introduces a name the question uses ("we propose LayerNorm Scaling,
    which scales ..."): in a comparison, what the compared work *is* under the name compared."""
    asked = method_names(question)

    def used(name: str) -> bool:  # a method's name, written as the question writes it
        distinct = name.lower() in asked or re.search(r"[A-Z0-9]", name[1:]) is not None
        return distinct and re.search(rf"(?<![\w-]){re.escape(name)}(?![\w-])", question) is not None

    named = [i for i, s in enumerate(item.sentences) if any(used(n) for n in _NAMING.findall(s))]
    return max(named, key=lambda i: (item.relevance[i], -i)) if named else None


def identify(
    item: EvidenceItem, question: str, prefix: str = "", more: tuple[int, ...] = ()
) -> list[CheckedSentence]:
    """A paper as a lookup answer: its best sentence for the question and, if another one, the
    sentence stating its contribution (which names the method), and the sentences ``more``, in
    abstract order."""
    best = max(range(len(item.sentences)), key=item.relevance.__getitem__)
    claim = _claim(item, question)
    claim = best if claim is None else claim
    out = []
    for n, i in enumerate(sorted({best, claim, *more})):
        text = f"{prefix}{item.title} — {item.sentences[i]}" if n == 0 else item.sentences[i]
        out.append(CheckedSentence(text, [item.marker], item.relevance[i]))
    return out


def lookup_answer(plan: Plan, evidence: Evidence, floor: float) -> list[CheckedSentence]:
    """The paper(s) retrieval ranks highest, each with its best sentence; empty = abstain.

    No sentence floor: whether the evidence answers at all was decided before (stage 2½), and a
    paraphrased description shares few words with any one sentence of the paper it describes.
    """
    del floor
    candidates = _eligible(plan, evidence, 0.0)
    if not candidates:
        return []
    top = candidates[0]
    # "Which paper proves X, and how do they handle ReLU?": the paper found is the one the other
    # parts ask about; each gets its best sentence there.
    more: tuple[int, ...] = ()
    if plan.parts:
        skip = frozenset(j for j, part in enumerate(plan.parts) if asks_for_paper(part))
        more = tuple(i for _, _, i in _for_each_part(plan, [top], 0.0, skip))
    elif plan.quantity and not plan.english:
        # "¿Qué artículo propone X, y qué precisión obtiene?": another language's "and what" is
        # not split into parts, so the paper's sentence stating a number that best fits the
        # question answers the number part.
        more = tuple(
            i for _, _, i in select(plan.question, [top], max_sentences=1, min_relevance=0.0, resolved=True)
        )
    out = identify(top, plan.question, more=more)
    if not confident(top) and len(candidates) > 1:
        second = candidates[1]
        if second.best_relevance >= RUNNER_UP_RELATIVE * top.best_relevance:
            out.extend(identify(second, plan.question, "Also close: "))
    return out


def list_candidates(plan: Plan, evidence: Evidence, floor: float) -> list[EvidenceItem]:
    """The papers a list answer chooses from: every retrieved one with a sentence passing
    ``floor`` (one that addresses the question at all) that mentions a method name the question
    uses (if any). The paper both retrievers rank first clears a lower bar (its topic may be
    spread over the whole abstract, or the question be in another language, so that no one
    sentence scores as high)."""
    eligible = {e.marker for e in _eligible(plan, evidence, 0.0)}
    return [
        e
        for e in evidence.items
        if e.marker in eligible
        and e.best_relevance >= (CONFIDENT_RELAXATION * floor if confident(e) else floor)
    ]


def list_answer(plan: Plan, evidence: Evidence, floor: float) -> list[CheckedSentence]:
    """Every candidate (:func:`list_candidates`) the membership model lists (:mod:`membership`:
    sentence relevance weighed against retrieval ranks), each quoted like a lookup answer;
    empty = abstain."""
    # Each listed paper is answered like a lookup: its best sentence for the question, and the
    # sentence that names its contribution, which says what the paper *is* ("we propose S-KAN")
    # where the best sentence may only restate the topic ("KANs are a remarkable innovation").
    listed = members(list_candidates(plan, evidence, floor))
    return [s for e in listed for s in identify(e, plan.question)]


def _scored_by_part(items: list[EvidenceItem], j: int) -> list[EvidenceItem]:
    """``items`` with each sentence scored against part ``j`` of the question instead."""
    return [replace(e, relevance=e.part_relevance[j]) for e in items if j < len(e.part_relevance)]


def _as_picked(by_marker: dict[int, EvidenceItem], item: EvidenceItem, i: int) -> Pick:
    """Sentence ``i`` of a part-scored ``item`` as a pick of the original item (scored by the
    whole question)."""
    original = by_marker[item.marker]
    return original.relevance[i], original, i


def _for_each_part(
    plan: Plan, items: list[EvidenceItem], floor: float, skip: frozenset[int] = frozenset()
) -> list[Pick]:
    """For a question that asks several things (``plan.parts``): the best sentence of ``items``
    for each part, so that "what accuracy ..., and what latency ...?" gets both numbers; the
    parts numbered in ``skip`` are answered already."""
    out: list[Pick] = []
    by_marker = {e.marker: e for e in items}
    for j, part in enumerate(plan.parts):
        if j in skip:
            continue
        scored = _scored_by_part(items, j)
        if asks_for_reported_results(part):
            # "what headline results do they report": each paper's sentence stating numbers that
            # best fits the part (the paper is the answer's already: no floor).
            for item in scored:
                numbered = [i for i, s in enumerate(item.sentences) if bare_numbers(s)]
                if numbered:
                    i = max(numbered, key=item.relevance.__getitem__)
                    out.append(_as_picked(by_marker, item, i))
            continue
        # The papers are already the answer's: the part ("what latency does it reach") need not
        # name them again.
        for _, item, i in select(part, scored, max_sentences=1, min_relevance=floor, resolved=True):
            out.append(_as_picked(by_marker, item, i))
    return out


def _part_answered(plan: Plan, items: list[EvidenceItem], floor: float) -> list[Pick]:
    """For a question asking several things of one paper ("On which datasets did they run it,
    and how many configurations did they train?") where no sentence answers the whole (the
    abstract says "6912 combinations", not "configurations"): the best sentence answering one
    part, by the rules that part alone is held to (a quantity still needs its measure). Its
    paper is then the one the other parts are asked of (:func:`_for_each_part`)."""
    by_marker = {e.marker: e for e in items}
    for j, part in enumerate(plan.parts):
        for _, item, i in select(part, _scored_by_part(items, j), max_sentences=1, min_relevance=floor):
            return [_as_picked(by_marker, item, i)]
    return []


def _naming_items(plan: Plan, items: list[EvidenceItem], picks: list[Pick]) -> list[Pick]:
    """For a question asking which things were used ("which datasets", "tested on"): the most
    relevant sentence of each answering paper that names such things ("ImageNet-1K, HMDB-51
    and ERA5"), where its picked sentences name fewer. The paper is already the answer's, so no
    floor: the sentence listing the benchmarks often shares few words with the question."""
    if not plan.asks_items:
        return []
    out: list[Pick] = []
    for item in items:
        known = f"{plan.question} {item.title}"
        named = {i: len(item_names(sentence, known)) for i, sentence in enumerate(item.sentences)}
        # The sentence naming the most things is the one listing them ("on SHD, SSC and GSC"),
        # not one naming the method's own acronym or its baseline ("against Global MP").
        naming = [i for i, n in named.items() if n]
        if not naming:
            continue
        i = max(naming, key=lambda i: (named[i], item.relevance[i]))
        if all(named[i] > named[p[2]] for p in picks if p[1] is item):
            out.append((item.relevance[i], item, i))
    return out


def _defining(plan: Plan, items: list[EvidenceItem]) -> list[Pick]:
    """For "What is SIGReg?": the first sentence of each answering paper that introduces one of
    the asked names, with its long form ("Sketched Isotropic Gaussian Regularization (SIGReg)")
    or as "SIGReg, a ..." / "called SIGReg"; its best-scoring sentence may only use the name."""
    out: list[Pick] = []
    for name in plan.defines:
        for item in items:
            i = next((i for i, s in enumerate(item.sentences) if introduces(name, s)), None)
            if i is not None:
                out.append((item.relevance[i], item, i))
    return out


def _merge(first: list[Pick], more: list[Pick]) -> list[Pick]:
    """``first``, then the picks of ``more`` not in it yet."""
    seen = {(item.marker, i) for _, item, i in first}
    out = list(first)
    for pick in more:
        if (pick[1].marker, pick[2]) not in seen:
            seen.add((pick[1].marker, pick[2]))
            out.append(pick)
    return out


def _answering(picks: list[Pick], items: list[EvidenceItem]) -> list[EvidenceItem]:
    """The items the picks quote, in evidence order."""
    quoted = {item.marker for _, item, _ in picks}
    return [e for e in items if e.marker in quoted]


def _work_picks(plan: Plan, item: EvidenceItem, floor: float) -> list[Pick]:
    """One compared work on its own terms: its best sentences for the question (as many as any
    paper may give), each part's best sentence, what it proposes and, for "which datasets", the
    sentence naming them."""
    own = select(
        plan.question,
        [item],
        max_sentences=MAX_PER_PAPER,
        min_relevance=floor,
        relative_cutoff=0.0,
        resolved=True,
    )
    # A work's best sentence stands for it even below the floor (as in :func:`cover`).
    if not own and item.relevance:
        own = [_best_pick(item)]
    # The work is the answer's: each part gets its best sentence, however few words it shares
    # with the part ("over what model-size ranges" / "model sizes from 70M to 7B").
    own = _merge(own, _for_each_part(plan, [item], 0.0))
    # What each work proposes ("we propose LayerNorm Scaling") is what is compared.
    # :func:`_claim` prefers a name the question does not use (a lookup's answer); the question
    # compares the work under its name, and the sentence introducing that name says what it is.
    for claim in (_claim(item, plan.question), _introduces_asked(item, plan.question)):
        if claim is not None:
            own = _merge(own, [(item.relevance[claim], item, claim)])
    return _merge(own, _naming_items(plan, [item], own))


def extractive_answer(
    plan: Plan, evidence: Evidence, *, max_sentences: int, floor: float
) -> list[CheckedSentence]:
    """The most relevant sentences, quoted; every compared work / followed-up paper covered, and
    every part of a question that asks several things answered."""
    items = evidence.items
    if plan.kind == "compare" and len(evidence.must_cover) >= 2:
        # A comparison quotes every compared work on its own terms (:func:`_work_picks`), not
        # only the best few sentences overall, which can all come from one side when its
        # abstract happens to echo the question's words. The best sentences overall from other
        # papers stay: a compared work resolved to the wrong paper is then still answered by the
        # paper the question's words point to.
        must = set(evidence.must_cover)
        picked = [p for item in evidence.covered for p in _work_picks(plan, item, floor)]
        overall = select(plan.question, items, max_sentences=max_sentences, min_relevance=floor)
        others = [p for p in overall if p[1].marker not in must]
        return cover(plan, evidence, quote_picks(_merge(picked, others)))
    if evidence.only_covered:
        items = evidence.covered
    # An answer about one paper (the one a follow-up asks about) may quote it throughout.
    per_paper = max_sentences if plan.kind == "followup" and len(items) == 1 else MAX_PER_PAPER
    picks = select(
        plan.question, items, max_sentences=max_sentences, min_relevance=floor, max_per_paper=per_paper
    )
    if not picks and len(plan.parts) >= 2 and plan.kind != "followup":
        # (A follow-up's paper is known: its best sentence leads, below.)
        picks = _part_answered(plan, items, floor)
    top = items[0] if items else None
    if plan.kind == "summary" and picks and top and confident(top) and all(p[1] is not top for p in picks):
        # Both retrievers put this paper first, yet other papers' sentences echo the question's
        # words better ("... applied to Vision Transformers" quotes ViT papers, not the KAN
        # attention paper): the answer starts with the paper the question is about.
        picks = [_best_pick(top), *picks]
    if plan.parts and (picks or (plan.kind == "followup" and items)):
        # Each part is answered from the papers the answer quotes. A follow-up's papers are
        # known even when no sentence answers the whole question ("What do they mean by X, and
        # how much faster was their model?"): its paper's best sentence leads, as below, and
        # each part is answered from them however few words the part shares with its sentence
        # (as a compared work's parts are, :func:`_work_picks`).
        part_items = _answering(picks, items) if picks else items
        skip: frozenset[int] = frozenset()
        if not picks:
            picks = [_best_pick(items[0])]
            _, lead, i = picks[0]
            # A part the leading sentence answers too needs no other sentence.
            skip = frozenset(j for j, rel in enumerate(lead.part_relevance) if rel[i] >= floor)
        known = plan.kind == "followup" and evidence.only_covered
        # One paper answers: the other parts are asked of it ("What decomposition does that
        # method use, and which of its components did the authors find crucial?"), and its
        # sentence answering one ("our analysis reveals renormalization as the crucial component")
        # shares few words with the part; its bar is relaxed as a follow-up's known paper's is.
        part_floor = 0.0 if known else floor * FOLLOWUP_RELAXATION if len(part_items) == 1 else floor
        picks = _merge(picks, _for_each_part(plan, part_items, part_floor, skip))
    if picks and plan.defines:
        picks = _merge(_defining(plan, _answering(picks, items)), picks)
    if picks and plan.kind in ("summary", "fact") and _ASKS_PROPOSED.search(plan.question):
        # "What simple fix do they propose?": the sentence stating the paper's contribution
        # ("we propose LayerNorm Scaling") answers, however many of the question's words (here a
        # false premise about Post-LN) other sentences echo.
        lead = picks[0][1]
        claim = _claim(lead, plan.question)
        if claim is not None:
            picks = _merge(picks, [(lead.relevance[claim], lead, claim)])
    if plan.asks_items and (picks or plan.kind == "followup"):
        # A follow-up's papers are known even when no sentence passed the floor.
        picks = _merge(picks, _naming_items(plan, _answering(picks, items) if picks else items, picks))
    picked_sentences = quote_picks(picks)
    # A follow-up's paper is known (the conversation is about it) and the evidence passed the
    # follow-up's relevance bar (stage 2½): its best sentence answers better than an abstention.
    if plan.kind == "followup" and not picked_sentences and items:
        picked_sentences = [_quote(items[0])]
    return cover(plan, evidence, picked_sentences)


def cover(plan: Plan, evidence: Evidence, sentences: list[CheckedSentence]) -> list[CheckedSentence]:
    """Add the best sentence of every compared work the sentences do not cite yet."""
    if plan.kind != "compare" or not sentences:
        return sentences
    cited = {m for s in sentences for m in s.markers}
    by_marker = {e.marker: e for e in evidence.items}
    extra = [_quote(by_marker[m]) for m in evidence.must_cover if m not in cited and m in by_marker]
    return [*sentences, *extra]


def guidance(plan: Plan, evidence: Evidence) -> str:
    """Plan-specific lines for the answer prompt (``prompts/guidance_<kind>.md``), or ''."""
    lines = []
    if plan.quantity:
        lines.append(load_prompt("guidance_quantity").render())
    elif plan.kind == "compare" and len(evidence.must_cover) >= 2:
        by_marker = {e.marker: e for e in evidence.items}
        works = "; ".join(f"[{m}] {by_marker[m].title}" for m in evidence.must_cover if m in by_marker)
        lines.append(load_prompt("guidance_compare").render(works=works))
    if plan.parts:
        # A small model answers the first thing asked and stops (or pairs a number with the
        # wrong measure): the parts are spelled out, one per line.
        parts = "\n".join(f"{n}. {neutralize_tokens(p)}" for n, p in enumerate(plan.parts, 1))
        lines.append(load_prompt("guidance_parts").render(count=str(len(plan.parts)), parts=parts))
    return "\n".join(lines)


def llm_messages(
    plan: Plan, evidence: Evidence, asked: str, prompt_items: list[EvidenceItem]
) -> list[dict[str, str]]:
    """The chat messages for the model: fixed system prompt first (llama.cpp reuses its cached
    prefix), then the evidence and the question."""
    extra = guidance(plan, evidence)
    return [
        {"role": "system", "content": load_prompt("system").render()},
        {
            "role": "user",
            "content": load_prompt("answer").render(
                evidence=render_evidence(prompt_items),
                question=neutralize_tokens(asked),
                guidance=f"\n{extra}" if extra else "",
            ),
        },
    ]
