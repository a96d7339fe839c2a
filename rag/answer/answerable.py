"""Stage 2½ — decide: does the gathered evidence answer the question, or should we abstain?

The decision is a logistic model over features the pipeline already has (no new model, no
extra retrieval):

- ``best_relevance``: how well the best evidence sentence matches the question (SupportScorer);
- ``dense_top``: the embedding similarity of the best retrieved chunk;
- ``retrievers_agree``: dense and BM25 retrieval both rank the top paper first;
- ``names_missing``: share of the method names in the question ("GNMT", "FIBER") that no
  retrieved paper mentions — a near-miss question about a work the corpus lacks;
- ``value_gap``: for a question asking for a number, how far (in words) the nearest number
  stands from the words naming the asked measure ("BLEU", "GPU hours") in the papers the answer
  would come from (those naming the asked subject, see :func:`subjects`); only a number in the
  measure's own clause counts, and for a question asking the measure itself (no "higher",
  "faster", "than" ...) not a number stated relative to another ("25 times fewer parameters");
  for "which datasets" questions, how far the nearest name is from the item word; 1 = nothing
  there at all;
- ``only_instructions``: the message only gives orders to the assistant (nothing to answer).

The weights and the threshold are not set by hand: ``python -m eval.calibrate abstention`` fits
them on the dev split by cross-validation and writes ``answerability.json`` next to this module
(with the cross-validated precision/recall of "answerable" and the data it was fitted on).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any

from .evidence import EvidenceItem
from .gather import Evidence
from .logistic import LogisticModel
from .plan import Plan, asked_item
from .question import asked_subject, asks_for_quantity, quantity_phrase
from .terms import (
    COUNT_WORDS,
    RELATIVE_TARGETS,
    content_terms,
    distinctive_names,
    has_relative_value,
    measure_terms,
    method_names,
    names_found,
    names_typed,
    singular,
    title_phrases,
    without_enumerators,
)

FEATURES: tuple[str, ...] = (
    "best_relevance",
    "dense_top",
    "retrievers_agree",
    "names_missing",
    "value_gap",
    "only_instructions",
)
#: A number further than this many words from the asked measure does not count as its value.
GAP_WORDS = 12
#: Question kinds whose answer is a number about one subject (lists and lookups answer with papers).
_VALUE_KINDS = frozenset({"fact", "summary", "followup"})
#: Kinds whose value gap alone decides under the relevance rule: a follow-up's papers come from
#: the conversation, where "its accuracy" may be worded quite unlike the abstract.
_STANDALONE_VALUE_KINDS = frozenset({"fact", "summary"})
_TOKEN = re.compile(r"\S+")
# A value: not part of a name ("CIFAR-10", "ResNet-50", "WMT'14", "GPT-4", "U^2-Net"), optionally a unit.
# "13-layer" and "4-bit" are values; "10-K" is not.
# A count in words ("eleven hidden layers") is a value too.
_VALUE = re.compile(
    r"(?<![\w.\-'/’^])\d+(?:[.,]\d+)*(?:\s*(?:%|[KkMmBbTt]\b|[xX]\b|×))?(?!\w|-[A-Z0-9])|" + COUNT_WORDS
)

REASONS: dict[str, str] = {
    "names_missing": "the corpus has no paper on {names}",
    "value_gap": "the papers found do not report {target} in their abstracts",
    "only_instructions": "the message asks nothing about the papers",
    "foreign_without_names": "the question is in a language the search cannot read, and it names no "
    "method, model or dataset to look for",
    # Set by the answer stage, after the decision let the question through:
    "no_sentence": "no sentence of the papers found states what is asked",
    "model_declined": "the model found no answer in the papers found",
    "unverified": "the model's answer could not be verified against the sources",
    "best_relevance": "no paper in the corpus addresses this question",
    "dense_top": "no paper in the corpus addresses this question",
    "retrievers_agree": "no paper in the corpus addresses this question",
}


class AbstentionModel(LogisticModel):
    """Logistic model of P(answerable | features) and the threshold below which we abstain."""

    FEATURES = FEATURES


@lru_cache(maxsize=1)
def load_model() -> AbstentionModel:
    """The fitted model shipped with the package (``rag/answer/answerability.json``)."""
    return AbstentionModel.load(__package__, "answerability.json")


@dataclass(frozen=True)
class Answerability:
    """The decision, with what it rests on (shown in the UI and recorded by the eval)."""

    answerable: bool
    probability: float
    threshold: float
    features: dict[str, float]
    #: Why we abstain, in words ("the corpus has no paper on gnmt"); ``None`` when answerable.
    reason: str | None = None
    #: Which rule decided: ``calibrated`` (this model), ``relevance`` (the best sentence's score)
    #: or ``answer`` (the decision let the question through, but the answer stage found no
    #: sentence to quote, the model declined, or its answer failed verification).
    rule: str = "calibrated"
    #: Why we abstain, as a key of :data:`REASONS` (``"foreign_without_names"``: the search could
    #: not read the question) for code to branch on; ``None`` when answerable.
    cause: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict."""
        return {
            "answerable": self.answerable,
            "probability": round(self.probability, 4),
            "threshold": self.threshold,
            "features": {k: round(v, 4) for k, v in self.features.items()},
            "reason": self.reason,
            "cause": self.cause,
            "rule": self.rule,
        }


def value_gap(plan: Plan, evidence: Evidence) -> float:
    """How far the asked value is from what it should describe, in the papers the answer would
    come from (:func:`subjects`): 0 = right next to it … 1 = not there at all.

    A quantity question needs a number near the words naming the measure ("a BLEU score of
    34.8"); an item question ("which datasets ...") needs a name near the item word ("on the
    WAD 2018 Challenge Drivable Area track"), other than the names the question already says.
    0 for questions that ask for neither.
    """
    if plan.kind not in _VALUE_KINDS or not evidence.items or not (plan.quantity or plan.item):
        return 0.0
    asked = (
        distinctive_names(plan.question)
        | {w.lower() for w in _CAPITALIZED.findall(plan.question)}
        | _acronyms_of(plan.question)
    )
    absolute = not _RELATIVE_CUE.search(plan.question)
    # A question asking two measures is answered by the one stated (one it does not name is no
    # evidence of either: any number would do).
    targets = [t for t in plan.measures if t] or [plan.target]
    best = GAP_WORDS
    asked_qualifiers = qualifiers(quantity_phrase(plan.question)) if plan.quantity else {}
    named = conditions(plan, evidence)
    for item in subjects(plan, evidence):
        if named - names_found(named, f"{item.title} {item.abstract}"):
            # The paper never names a model or dataset the value is asked for ("on tiny
            # imagenet"): none of its numbers is that value.
            continue
        for sentence in item.sentences:
            if plan.quantity:
                for target in targets:
                    best = min(best, _distance(sentence, target, absolute=absolute, asked=asked_qualifiers))
            elif plan.item:
                best = min(best, _name_distance(sentence, plan.item, asked))
    return best / GAP_WORDS


def conditions(plan: Plan, evidence: Evidence) -> set[str]:
    """The names a value is asked under, lower-cased: the model and dataset names the question
    writes outside its subject ("What accuracy does PODNet get on *CIFAR-10*?"), also typed in
    lower case ("on tiny imagenet" for "Tiny-ImageNet"), that some paper found names; not the
    measure's own words. The paper a value comes from must name them all.

    A name no paper found writes is no condition, unless it is another numbered variant of a name
    one writes ("CIFAR-10" where a paper says "CIFAR100"): it may be what the question calls its
    subject ("seq2seq" for "Sequence to Sequence Learning"); ``names_missing`` weighs it."""
    known: set[str] = set()
    for item in evidence.items:
        known |= method_names(f"{item.title} {item.abstract}")
    subject = asked_subject(plan.question)
    named = set(plan.names) | names_typed(plan.question, known)
    named -= method_names(subject) | names_typed(subject, known)
    named = {n for n in named if not content_terms(n) & plan.target}
    found = names_found(named, " ".join(f"{e.title} {e.abstract}" for e in evidence.items))
    stems = {_letters(k) for k in known if _DIGIT.search(k)}
    return found | {n for n in named - found if _DIGIT.search(n) and _letters(n) in stems}


_DIGIT = re.compile(r"\d")


def _letters(name: str) -> str:
    """A name's letters only: the numbered variants of one name share them ("cifar")."""
    return re.sub(r"[^a-z]", "", name.lower())


def subjects(plan: Plan, evidence: Evidence) -> list[EvidenceItem]:
    """The papers a question about one thing is about: the conversation's papers for a
    follow-up; else the papers that best match the names of the question's subject (or of the
    whole question), each name weighted by how
    few of the retrieved papers mention it ("VanillaNet" singles out one paper, "ImageNet" does
    not); else retrieval's first paper."""
    items = evidence.items
    if plan.focus:
        focused = [e for e in items if e.paper_id in plan.focus]
        if focused:
            return focused
    # The names of the asked subject ("does *ByteNet* reach"), else of the question; never the
    # measure itself ("BLEU" is what is asked for, not who).
    subject = asked_subject(plan.question)
    # Also the names a paper found writes, where the question types them in lower case ("hawq",
    # "vanillanet").
    known: set[str] = set()
    for item in items:
        known |= distinctive_names(f"{item.title} {item.abstract}")
    subject_names = distinctive_names(subject) | title_phrases(subject) | names_typed(subject, known)
    if subject and not subject_names and len(content_terms(subject)) >= 3:
        # A subject described in words ("the searched architecture from memory-efficient
        # differentiable Transformer search") is retrieval's first paper: the names elsewhere in
        # the question are conditions ("... get on WMT'14"), which other papers also meet.
        return items[:1]
    names = subject_names or (
        distinctive_names(plan.question) | title_phrases(plan.question) | names_typed(plan.question, known)
    )
    names = {n for n in names if not content_terms(n) & plan.target}
    found = {e.marker: names_found(names, f"{e.title} {e.abstract}") for e in items}
    df = {n: sum(n in f for f in found.values()) for n in names}
    score = {m: sum(1.0 / df[n] for n in f) for m, f in found.items()}
    best = max(score.values(), default=0.0)
    if best <= 0:
        return items[:1]
    return [e for e in items if score[e.marker] >= best - 1e-9]


def _acronyms_of(question: str) -> set[str]:
    """The acronyms of the question's runs of two to five words ("large language model" → "llm"):
    a sentence naming "LLM" names the kind the question asks about, not an item of it."""
    initials = [w[0].lower() for w in _WORDS.findall(question)]
    return {"".join(initials[i : i + n]) for n in range(2, 6) for i in range(len(initials) - n + 1)}


_WORDS = re.compile(r"[A-Za-z][\w'-]*")
_CAPITALIZED = re.compile(r"(?<!^)(?<![.!?]\s)\b[A-Z][\w\-]+")


def _name_distance(sentence: str, item: str, asked: set[str]) -> int:
    """Words between the item word ("datasets") and a name not in the question; ``GAP_WORDS``
    when there is none."""
    words = _TOKEN.findall(sentence)
    marks = [i for i, w in enumerate(words) if item in content_terms(w)]
    names = [
        i
        for i, w in enumerate(words)
        if i > 0
        and (distinctive_names(w) or _CAPITALIZED.match(w) or (w[:1].isupper() and len(w) > 1))
        and w.strip("().,;:[]").lower() not in asked
    ]
    if not marks or not names:
        return GAP_WORDS
    return min(GAP_WORDS, min(abs(n - m) for n in names for m in marks))


_CLAUSE_WORDS = frozenset({"while", "whereas", "but", "although", "though"})


#: A question with one of these asks for (or allows) a value relative to something else.
_RELATIVE_CUE = re.compile(
    r"\b(improv\w*|gains?|higher|lower|more|less|fewer|better|worse|faster|slower|smaller|larger|bigger"
    r"|reduc\w*|increas\w*|speed\w*|beat\w*|outperform\w*|than|over|compared|relative|times|fold"
    r"|percent\w*|margin|difference|cheaper)\b|%",
    re.IGNORECASE,
)
# "0.7% and 1.5% higher", "2 to 25 times fewer", "3x faster": a value stated relative to another.
_COMPARED_VALUE = re.compile(
    r"(?:\s*(?:%|x|×|times|fold|and|or|to|-)?\s*[\d.,]*%?){0,4}\s*(?:higher|lower|more|less|fewer|better|worse"
    r"|faster|slower|smaller|larger|bigger|improvement|gain|reduction|speed-?up)\b",
    re.IGNORECASE,
)


#: Words that set values of one measure apart, by what they tell apart: a training accuracy is
#: no test accuracy, a top-5 accuracy no top-1.
_QUALIFIERS: dict[str, tuple[str, str]] = {
    "train": ("split", "train"),
    "training": ("split", "train"),
    "test": ("split", "test"),
    "testing": ("split", "test"),
    "validation": ("split", "validation"),
    "top-1": ("rank", "1"),
    "top1": ("rank", "1"),
    "top-5": ("rank", "5"),
    "top5": ("rank", "5"),
}


def qualifiers(text: str) -> dict[str, str]:
    """The qualifiers ``text`` (the asked measure's phrase, "test accuracy") gives its measure:
    ``{"split": "test"}``."""
    words = (w.strip("().,;:?!'\"").lower() for w in _TOKEN.findall(text))
    return dict(_QUALIFIERS[w] for w in words if w in _QUALIFIERS)


def _qualified_otherwise(words: list[str], at: int, asked: dict[str, str]) -> bool:
    """Whether the measure word ``words[at]`` is qualified as another measure than the asked one
    ("a *training* accuracy of 97.39%" when the test accuracy is asked)."""
    for word in words[max(0, at - 2) : at]:
        kind = _QUALIFIERS.get(word.strip("().,;:'\"").lower())
        if kind and kind[0] in asked and asked[kind[0]] != kind[1]:
            return True
    return False


def _distance(
    sentence: str, target: frozenset[str], *, absolute: bool = False, asked: dict[str, str] | None = None
) -> int:
    """Words between a value and a word naming the measure (0 when there is no measure named and
    the sentence has a value); ``GAP_WORDS`` when there is no value. With ``absolute`` (the
    question asks for the measure itself, not a gain), a value stated relative to another ("25
    times fewer parameters", "0.7% higher accuracy") does not count; with ``asked`` qualifiers
    (:func:`qualifiers`), neither does the measure qualified otherwise ("training accuracy" for
    the asked test accuracy)."""
    found = [
        m
        for m in _VALUE.finditer(without_enumerators(sentence))
        if not (absolute and _COMPARED_VALUE.match(sentence, m.end()))
    ]
    values = [len(_TOKEN.findall(sentence[: m.start()])) for m in found]
    if not values:
        return GAP_WORDS
    if not target:
        return 0
    if target <= RELATIVE_TARGETS:
        # "How much faster / better / cheaper ..." asks for a relative value: a ratio or a
        # percentage ("1.71X speedup", "10.1% higher accuracy") is the answer's kind of number.
        return 0 if has_relative_value(sentence) else GAP_WORDS
    words = _TOKEN.findall(sentence)
    # Plural or singular, the measure is the same word, also where the stemmer keeps the "s"
    # ("How many GPUs ..." and "on 8 GPU nodes"), as in the extractive sentence choice.
    target = singular(target)
    marks = [
        i
        for i, w in enumerate(words)
        if measure_terms(w) & target and not (asked and _qualified_otherwise(words, i, asked))
    ]
    if not marks:
        return GAP_WORDS
    # A value measures the words of its own clause: in "achieves 2.3% higher accuracy while
    # reducing ... GPU hours", 2.3% is not the GPU hours.
    clause = [0] * len(words)
    for i in range(1, len(words)):
        breaks = words[i - 1][-1] in ",;:" or words[i].lower() in _CLAUSE_WORDS
        clause[i] = clause[i - 1] + int(breaks)
    pairs = [abs(v - m) for v in values for m in marks if v < len(words) and clause[v] == clause[m]]
    return min(GAP_WORDS, min(pairs, default=GAP_WORDS))


def features(plan: Plan, evidence: Evidence) -> dict[str, float]:
    """The decision's inputs (see the module docstring), each in [0, 1]."""
    # Retrieval's first hit (a follow-up's remembered papers come first but were not retrieved).
    top = next((r for r in evidence.results if r.chunks), None)
    dense = max((c.dense_score or 0.0 for c in top.chunks), default=0.0) if top else 0.0
    agree = bool(top and top.dense_rank == 1 and top.lexical_rank == 1)
    missing = _absent_names(plan, evidence)
    return {
        "best_relevance": evidence.best_relevance,
        "dense_top": max(0.0, min(1.0, dense)),
        "retrievers_agree": float(agree),
        "names_missing": len(missing) / len(plan.names) if plan.names else 0.0,
        "value_gap": value_gap(plan, evidence),
        "only_instructions": float(plan.orders_only),
    }


def decide(
    plan: Plan, evidence: Evidence, model: AbstentionModel | None = None, threshold: float | None = None
) -> Answerability:
    """Whether to answer: P(answerable) from ``model`` (default: the shipped one) against
    ``threshold`` (default: the model's calibrated one)."""
    model = model or load_model()
    cut = model.threshold if threshold is None else threshold
    values = features(plan, evidence)
    if not evidence.items:
        return Answerability(False, 0.0, cut, values, REASONS["best_relevance"], cause="best_relevance")
    p = model.probability(values)
    if p >= cut:
        return Answerability(True, p, cut, values)
    cause = _strongest_pull(model, values)
    return Answerability(False, p, cut, values, _reason(plan, cause, evidence), cause=cause)


#: A follow-up whose papers the conversation already fixed ("what did *they* evaluate on?") is
#: short and shares few words with any sentence: its relevance bar is this share of the usual
#: one (the same relaxation the extractive draft applies to the followed-up paper).
FOLLOWUP_RELAXATION = 0.6


def relevance_gate(
    calibrated: Answerability, evidence: Evidence, min_relevance: float, plan: Plan | None = None
) -> Answerability:
    """The transparent rule (``answer.abstention = "relevance"``): answer when some evidence
    sentence scores at least ``min_relevance`` (relaxed by :data:`FOLLOWUP_RELAXATION` for a
    follow-up about known papers), the message asks something (not only orders to the
    assistant), and — for a fact question — the papers it is about have a value near the words
    naming the asked measure (``value_gap`` < 1). The calibrated probability is kept for the record."""
    if plan is not None and plan.orders_only:  # nothing is asked: nothing to answer
        return _abstain(calibrated, "only_instructions", plan)
    if plan is not None and not evidence.crosslingual and plan.names_nothing_readable:
        # Without the multilingual encoder the models read English only; in another language,
        # only a name or an acronym the question shares with a paper ("SVHN", "LightHGNN")
        # shows what it is about.
        return _abstain(calibrated, "foreign_without_names", plan)
    if (
        plan is not None
        and plan.kind in _STANDALONE_VALUE_KINDS
        and ((plan.quantity and plan.target) or plan.item)
        and calibrated.features.get("value_gap", 0.0) >= 1.0
        and _asks_only_the_value(plan)
    ):
        # The answer would have to state a value (or name an item), and the papers the question
        # is about have none anywhere near the words naming it: whatever number we quoted would
        # be another measure's. Only when the plan read those words: "How long does X take?"
        # names none, and the abstract may say "less than a second".
        return _abstain(calibrated, "value_gap", plan, evidence)
    if plan is not None and plan.kind == "followup" and plan.focus:
        min_relevance *= FOLLOWUP_RELAXATION
    if evidence.best_relevance >= min_relevance:
        return replace(calibrated, answerable=True, reason=None, cause=None, rule="relevance")
    return _abstain(calibrated, "best_relevance", plan)


def _asks_only_the_value(plan: Plan) -> bool:
    """Whether every part of the question asks for the value the papers lack. "On which datasets
    did they run it, and how many configurations did they train?" also asks for datasets: the
    answer gives what the abstract states (a part asking for a number is still quoted only where
    a sentence names its measure, see :func:`.extractive.select`)."""
    if len(plan.parts) < 2:
        return True
    if plan.quantity:
        return all(asks_for_quantity(part) for part in plan.parts)
    return all(asked_item(part) for part in plan.parts)


def after_answer_stage(decided: Answerability, cause: str, plan: Plan) -> Answerability:
    """``decided`` (answerable) turned into an abstention by the answer stage, for ``cause``
    (``no_sentence``, ``model_declined`` or ``unverified``): the answer's record then says why
    it abstained; the probability stays the decision's. No sentence answers a question whose
    every method name (``plan.names``) is absent from the papers found because the corpus has
    no paper on it ("... protein folding with AlphaFold?"): that is the reason given."""
    if cause == "no_sentence" and plan.names and decided.features.get("names_missing", 0.0) >= 1.0:
        cause = "names_missing"
    return replace(decided, answerable=False, reason=_reason(plan, cause), cause=cause, rule="answer")


def _abstain(
    calibrated: Answerability, cause: str, plan: Plan | None, evidence: Evidence | None = None
) -> Answerability:
    """``calibrated`` turned into an abstention by the relevance rule, for ``cause``."""
    why = _reason(plan, cause, evidence) if plan is not None else REASONS[cause]
    return replace(calibrated, answerable=False, reason=why, cause=cause, rule="relevance")


def _value_reason(plan: Plan, evidence: Evidence | None = None) -> str:
    """ "the papers found do not report the GPU hours in their abstracts"; "... the accuracy for
    tiny imagenet ..." when the paper the question is about never names a condition it asks the
    value under (:func:`conditions`)."""
    phrase = quantity_phrase(plan.question) if plan.quantity else ""
    target = f"the {phrase}" if phrase else ("the asked number" if plan.quantity else "the asked names")
    unmet = _unmet_conditions(plan, evidence) if evidence is not None else []
    # "the ImageNet top-1 accuracy" already says ImageNet.
    unmet = [name for name in unmet if not names_found({name}, phrase)]
    if unmet:
        target += " for " + ", ".join(_as_written(name, plan.question) for name in unmet)
    return REASONS["value_gap"].format(target=target)


def _absent_names(plan: Plan, evidence: Evidence) -> list[str]:
    """The question's method names (``plan.names``) that no paper found mentions."""
    found = " ".join(f"{e.title} {e.abstract}" for e in evidence.items)
    return sorted(set(plan.names) - names_found(plan.names, found))


def _unmet_conditions(plan: Plan, evidence: Evidence) -> list[str]:
    """The conditions of the question (:func:`conditions`) that the subject paper naming the
    most of them does not name."""
    named = conditions(plan, evidence)
    if not named:
        return []
    papers = subjects(plan, evidence)
    missing = [sorted(named - names_found(named, f"{e.title} {e.abstract}")) for e in papers]
    return min(missing, key=len, default=[])


def _strongest_pull(model: AbstentionModel, values: dict[str, float]) -> str:
    """The feature that pulls hardest towards abstention (a key of :data:`REASONS`)."""
    # Contribution relative to the feature's "good" end (1 for positive weights, 0 for negative).
    pull = {name: w * (values.get(name, 0.0) - (1.0 if w > 0 else 0.0)) for name, w in model.weights.items()}
    worst = min(pull, key=pull.__getitem__)
    return worst if worst in REASONS else "best_relevance"


def _reason(plan: Plan, cause: str, evidence: Evidence | None = None) -> str:
    """``cause`` (a key of :data:`REASONS`) in words, filled in from ``plan`` (and, for a value
    gap, the papers in ``evidence`` the question is about)."""
    if cause == "value_gap":
        return _value_reason(plan, evidence)
    absent = _absent_names(plan, evidence) if evidence is not None else []
    names = ", ".join(_as_written(name, plan.question) for name in absent or plan.names) or "it"
    return REASONS[cause].format(names=names)


def _as_written(name: str, question: str) -> str:
    """A (lower-cased) plan name as the question writes it ("alphafold" → "AlphaFold",
    "tiny-imagenet" → "tiny imagenet")."""
    for form in (name, name.replace("-", " ")):
        found = re.search(rf"(?<![\w-]){re.escape(form)}(?![\w-])", question, re.IGNORECASE)
        if found:
            return found.group(0)
    return name
