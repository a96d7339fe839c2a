"""Stage 2 — gather evidence: retrieval shaped by the plan, then numbered evidence sentences.

- every kind: the papers retrieval ranks highest for the (standalone) question;
- ``compare``: each compared work is first resolved to its own paper (a search for its name;
  the paper must mention a method name the work is called by), and gets its own evidence slot
  ahead of the rest, so the second work cannot fall out of the prompt;
- ``followup``: the papers of the previous turn come first (by id when the history carries
  them, else by resolving the previous turn's text with retrieval);
- ``list``: more papers are retrieved (every matching paper should be listed);
- ``fact`` naming a paper by its full title ("What perplexity did End-To-End Memory Networks
  report?"): that paper comes first and the answer is about it alone (another paper's number
  does not answer a question about this one).

The papers an answer is about (compared works, the followed-up paper) show up to
``answer.focus_paper_tokens`` of their sentences, most abstracts whole; other papers show their
``answer.sentences_per_paper`` most relevant sentences.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from ..corpus.ids import normalize_title, paper_id
from ..retrieve import RetrievalTrace, SearchFilters
from ..retrieve.query import lexical_query
from ..tokens import count_tokens
from ..types import Paper, SearchResult
from .evidence import EvidenceItem, select_evidence
from .plan import Plan
from .question import QUOTED
from .support import SupportScorer
from .terms import content_terms, introduces, method_names, names_supported

Search = Callable[[str, int, SearchFilters, RetrievalTrace], list[SearchResult]]
FetchPapers = Callable[[list[str]], dict[str, Paper]]

#: Papers retrieved for a list question (all of them are candidates; the membership model
#: decides which are listed). On the dev list questions, 20 candidates hold 135 of the 136 gold
#: papers, 10 held 125.
LIST_K = 20


@dataclass(frozen=True)
class Evidence:
    """What the later stages work from."""

    results: list[SearchResult]
    items: list[EvidenceItem]
    #: Markers of evidence the answer must cite (compared works, the follow-up's paper).
    must_cover: tuple[int, ...] = ()
    #: Compared works no paper of the corpus could be found for.
    missing_works: tuple[str, ...] = ()
    #: The answer is about the ``must_cover`` papers alone (a follow-up's papers, the paper a
    #: fact question names by its title): other papers are not quoted or shown to the model.
    only_covered: bool = False
    #: Searched and scored with the multilingual encoder (a question in another language,
    #: :class:`~rag.answer.support.CrossLingualScorer`).
    crosslingual: bool = False
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def best_relevance(self) -> float:
        """Relevance of the best evidence sentence to the question (0 when there is none)."""
        return max((e.best_relevance for e in self.items), default=0.0)

    @property
    def covered(self) -> list[EvidenceItem]:
        """The items the answer must cite (``must_cover``), in marker order."""
        return [e for e in self.items if e.marker in self.must_cover]

    def by_paper(self, paper_id: str) -> EvidenceItem | None:
        """The evidence item of ``paper_id``, if it is in the evidence."""
        return next((e for e in self.items if e.paper_id == paper_id), None)


def _show_more(item: EvidenceItem, tokens: int) -> None:
    """Select the paper's sentences in order of relevance while they fit in ``tokens`` (at least
    the ones already selected), shown in abstract order."""
    ranked = sorted(range(len(item.sentences)), key=lambda i: item.relevance[i], reverse=True)
    chosen = set(item.selected)
    used = sum(count_tokens(item.sentences[i]) for i in chosen)
    for i in ranked:
        if i in chosen:
            continue
        cost = count_tokens(item.sentences[i])
        if used + cost > tokens:
            break
        chosen.add(i)
        used += cost
    item.selected = sorted(chosen)


def _mentions(work: str, paper: Paper | None, result: SearchResult) -> bool:
    """Whether a paper can be the work called ``work``: it mentions the work's method name(s)."""
    text = f"{paper.title} {paper.abstract}" if paper else f"{result.title} {result.text}"
    return names_supported(work, text)


#: Papers searched for a compared work's name. A bare name is a weak query ("I-JEPA": BM25 reads
#: "i" and "jepa", every JEPA paper matches), so the paper introducing it may rank below the
#: first few that use it.
WORK_HITS = 10


def resolve_work(
    work: str,
    search: Search,
    papers: FetchPapers,
    filters: SearchFilters,
    trace: RetrievalTrace,
    taken: frozenset[str] = frozenset(),
) -> SearchResult | None:
    """The paper a compared work refers to, or ``None`` when the corpus has none.

    A work with a method name ("Mix-LN", "GNMT") must be one that mentions it; a work described
    in words ("the original sequence-to-sequence LSTM paper") is retrieval's first hit. Papers
    already ``taken`` by another compared work come last: two works are two papers.
    """
    hits = search(work, WORK_HITS, filters, trace)
    hits = [h for h in hits if h.paper_id not in taken] + [h for h in hits if h.paper_id in taken]
    if not hits:
        return None
    # A paper whose title carries the work's name ("Sparse Transformers" → "Generating Long
    # Sequences with Sparse Transformers") is that work, even where retrieval ranks others first.
    wanted = f" {normalize_title(work)} "
    titled = [h for h in hits if h.paper_id not in taken and wanted in f" {normalize_title(h.title)} "]
    if titled and len(wanted) > 5:
        return titled[0]
    names = method_names(work)
    if not names:
        return hits[0]
    found = papers([h.paper_id for h in hits])
    # The paper that introduces the name ("We introduce the Image-based Joint-Embedding Predictive
    # Architecture (I-JEPA)") is the work, wherever retrieval ranks it; a paper that only uses the
    # name ("... JEPA family (I-JEPA and DINOv2)") may rank higher.
    for h in hits:
        paper = found.get(h.paper_id)
        if h.paper_id not in taken and paper and any(introduces(n, paper.abstract) for n in names):
            return h
    hit = next((h for h in hits[:3] if _mentions(work, found.get(h.paper_id), h)), None)
    if hit is None:
        # Two compared works may be studied in one paper ("Swallow" and "LLM-jp", both models the
        # same study examines): the work is in the corpus, in the paper the other work took.
        shared = [h for h in hits if h.paper_id in taken]
        hit = next((h for h in shared if _mentions(work, found.get(h.paper_id), h)), None)
    return hit


# A run of capitalised words, with the short words titles keep lower-case between them
# ("End-To-End Memory Networks", "Learning Transferable Architectures for Scalable Image Recognition").
_TITLE_RUN = re.compile(
    r"[A-Z0-9][\w'’-]*(?:\s+(?:(?:of|for|and|in|on|with|to|the|a|an|via|from|by|at|is|are)\s+)*"
    r"[A-Z0-9][\w'’-]*)+"
)


#: Longer runs of capitalised words are not tried as titles (the bundled corpus's longest: 21).
MAX_TITLE_WORDS = 30


def titled_paper(question: str, papers: FetchPapers) -> Paper | None:
    """The corpus paper whose whole title the question writes, quoted or as a run of
    capitalised words, whole or with words cut from its ends; the longest such title; ``None``
    if it names none."""
    spans = [next(g for g in m.groups() if g) for m in QUOTED.finditer(question)]
    for run in _TITLE_RUN.findall(question):
        words = run.split()
        n = len(words)
        # Prefixes, suffixes and the run less a few words at both ends ("Does Pointer Networks
        # Beat ..."): linear in the run's length, whatever the question.
        spans += [" ".join(words[:j]) for j in range(2, min(n, MAX_TITLE_WORDS) + 1)]
        spans += [" ".join(words[i:]) for i in range(max(0, n - MAX_TITLE_WORDS), n - 1)]
        spans += [" ".join(words[i:j]) for i in range(min(n, 4)) for j in range(max(i + 2, n - 3), n + 1)]
    by_id = {paper_id(span): span for span in sorted(set(spans), key=len)}
    found = papers(list(by_id)) if by_id else {}
    named = [found[pid] for pid in by_id if pid in found]
    return max(named, key=lambda p: len(p.title), default=None)


def _pair_with_name(
    name: str, results: list[SearchResult], search: Search, papers: FetchPapers,
    filters: SearchFilters, trace: RetrievalTrace,
) -> list[SearchResult]:  # fmt: skip
    """For "the two UniFormer papers": the first two papers that mention the name."""
    pool = {r.paper_id: r for r in [*search(name, 5, filters, trace), *results]}
    found = papers(list(pool))
    return [r for pid, r in pool.items() if _mentions(name, found.get(pid), r)][:2]


def list_topic(question: str) -> str:
    """What a list question asks about, as sentences are scored against it: the question without
    its frame words (:func:`~..retrieve.query.lexical_query`), hyphenated words written apart.

    "Which papers in the collection study grokking?" asks about grokking: a paper saying
    "grokking" once in a long sentence would fail the floor against the whole question.
    "Which papers use mixture-of-experts?" also asks about a "Mixture of Low-Rank Adapter
    Experts": word overlap counts "mixture-of-experts" as one word, so the topic spells its
    parts out; the whole question, scored too, still matches the hyphenated spelling.
    """
    return lexical_query(question).replace("-", " ")


#: "grokking, i.e. generalization long after ...", "hypernetworks (that is, networks that output
#: weights)": the question names its topic and then says it again in other words.
_RESTATED = re.compile(
    r",?\s*\(?\b(?:i\.\s?e\.|that is|a\.k\.a\.|aka|also (?:known as|called))(?!\w),?", re.IGNORECASE
)


#: A parenthesis naming or restating a topic ("(learning in weight space)", "(JEPA)"); one holding
#: a comma enumerates cases ("(fewer layers, widths, ranks or embedding dimensions)").
_PARENTHESIS = re.compile(r"\(([^(),]{3,80})\)")


def list_topics(question: str) -> tuple[str, ...]:
    """The topics a list question's sentences are scored against (each sentence by its best
    match): :func:`list_topic`, and, where the question names its topic and then restates it
    ("grokking, i.e. networks that generalize long after fitting the training set"), the name and
    the restatement alone (likewise the question without a parenthesis and the parenthesis). A
    paper about the topic uses one of them: "... exhibits grokking while doing so" shares one
    word with the whole topic, and a paper on "delayed generalization" never says "grokking"."""
    whole = list_topic(question)
    sides = [list_topic(side) for side in _RESTATED.split(question, maxsplit=1)]
    if len(sides) < 2:
        # "... take the weights of other networks as their input (learning in weight space)":
        # a parenthesis names or restates what precedes it.
        aside = _PARENTHESIS.search(question)
        if aside is None:
            return (whole,)
        sides = [list_topic(_PARENTHESIS.sub(" ", question)), list_topic(aside.group(1))]
    return (whole, *(side for side in sides if content_terms(side)))


def gather(
    plan: Plan,
    query: str,
    *,
    k: int,
    filters: SearchFilters,
    search: Search,
    papers: FetchPapers,
    scorer: SupportScorer,
    sentences_per_paper: int,
    token_budget: int,
    trace: RetrievalTrace,
    focus_results: list[SearchResult] | None = None,
    focus_tokens: int = 0,
) -> Evidence:
    """Retrieve for ``plan`` and select the evidence sentences (see the module docstring)."""
    want = max(k, LIST_K) if plan.kind == "list" else k
    results = search(query, want, filters, trace)
    first: list[SearchResult] = []
    missing: list[str] = []
    if plan.kind == "compare":
        if plan.same_name_pair:
            first = _pair_with_name(plan.same_name_pair, results, search, papers, filters, trace)
        for work in plan.works:
            taken = frozenset(f.paper_id for f in first)
            hit = resolve_work(work, search, papers, filters, trace, taken)
            if hit is None:
                missing.append(work)
            elif all(hit.paper_id != f.paper_id for f in first):
                first.append(hit)
    elif plan.kind == "followup" and focus_results:
        first = list(focus_results)
    elif plan.kind == "fact":
        named = titled_paper(plan.question, papers)
        hit = (
            next((h for h in search(named.title, 5, filters, trace) if h.paper_id == named.id), None)
            if named
            else None
        )
        first = [hit] if hit else []
    seen = {r.paper_id for r in first}
    ordered = [*first, *[r for r in results if r.paper_id not in seen]][: max(want, len(first))]
    found = papers([r.paper_id for r in ordered])
    # Lists need every candidate: the prompt budget applies later, to what the model is shown.
    budget = token_budget * 4 if plan.kind == "list" else token_budget
    # Sentences are scored against the question itself: for a follow-up the query also carries
    # the paper's title, which would favour sentences that merely restate the title. A list
    # question's sentences are also scored by its topic alone (:func:`list_topics`).
    items = select_evidence(
        plan.question,
        ordered,
        found,
        scorer,
        sentences_per_paper=sentences_per_paper,
        token_budget=budget,
        also=list_topics(plan.readable) if plan.kind == "list" else (plan.readable,),
        parts=plan.parts,
    )
    focused = [e for e in items if e.paper_id in seen]
    for item in focused:
        _show_more(item, focus_tokens)
    must = tuple(e.marker for e in focused)
    only = bool(must) and plan.kind in ("followup", "fact")
    return Evidence(ordered, items, must_cover=must, missing_works=tuple(missing), only_covered=only)
