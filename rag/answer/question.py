"""Question hygiene and simple question analysis."""

from __future__ import annotations

import re
import unicodedata

from .terms import content_terms, method_names


class QuestionError(ValueError):
    """The question cannot be answered as given (empty, too long); the message says why."""


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_QUANTITY = re.compile(
    r"\b(how (many|much|large|big|small|fast|long)|what (is|was|are) the (number|size|score|accuracy)"
    r"|what (score|accuracy|percentage|number|size|speed-?up|bleu|f1|map|error))\b"
    r"|\b(bleu|accuracy|f1|perplexity|percent|%|parameters|speed-?up|top-1|top-5|miou|bits-per-\w+)\b"
    r"|\bwhat\b[^?]*\b(achieve|achieves|reach|reaches|obtain|obtains|attain|attains|score)\b",
    re.IGNORECASE,
)
_PRONOUN = re.compile(
    r"\b(it|its|it's|they|them|their|this|that|these|those|the (paper|method|model|approach|"
    r"authors|first|second|former|latter|one))\b",
    re.IGNORECASE,
)


def clean_question(text: str, max_chars: int) -> str:
    """Normalize a question; raise ``QuestionError`` if it is empty or too long.

    Unpaired surrogates and control characters are removed; whitespace is collapsed.
    """
    if not isinstance(text, str):
        raise QuestionError("the question must be text")
    text = text.encode("utf-8", errors="replace").decode("utf-8")  # unpaired surrogates → "?"
    text = unicodedata.normalize("NFC", _CONTROL.sub(" ", text))
    text = " ".join(text.split())
    if not text:
        raise QuestionError("the question is empty: please type a question about the papers")
    if len(text) > max_chars:
        raise QuestionError(
            f"the question is too long ({len(text):,} characters; the limit is {max_chars:,}). "
            "Please shorten it."
        )
    return text


def asks_for_quantity(question: str) -> bool:
    """Whether the question asks for a number (count, score, size ...)."""
    return bool(_QUANTITY.search(question))


_TARGET = re.compile(
    r"\b(?:how many|how much|what(?: is| was| are| were)?(?: the)?)\s+(?P<target>.+?)\s+"
    r"(?:does|do|did|is|are|was|were|has|have|had|can|could|would|will)\b",
    re.IGNORECASE,
)
_GENERIC_TARGETS = frozenset({"score", "number", "valu", "result", "perform", "amount", "size"})


def quantity_phrase(question: str) -> str:
    """The words naming what a quantity question measures, as written ("GPU hours"); "" if none."""
    match = _TARGET.search(question)
    return match.group("target").strip() if match else ""


_SUBJECT = re.compile(
    r"\b(?:does|do|did|can|could|will|would)\s+(?P<subject>.+?)\s+"
    r"(?:reach|achieve|obtain|attain|get|have|use|need|require|report|score|take|contain|gain|"
    r"improve|beat|outperform|reduce|cut|save|win|run|cost|train|hit|deliver|yield)\b",
    re.IGNORECASE,
)


def asked_subject(question: str) -> str:
    """Who a question asks about, as written ("What BLEU score does *ByteNet* reach on
    WMT?"); "" when the question has no such phrase."""
    match = _SUBJECT.search(question)
    return match.group("subject").strip() if match else ""


def quantity_target(question: str) -> frozenset[str]:
    """Stemmed content words naming what a quantity question measures ("training tokens",
    "GPU hours", "BLEU score" → {"bleu"}); empty when there is no such phrase."""
    match = _TARGET.search(question)
    if not match:
        return frozenset()
    return content_terms(match.group("target")) - _GENERIC_TARGETS


def needs_context(question: str) -> bool:
    """Whether a follow-up question leans on earlier turns (pronouns, or very short)."""
    if _PRONOUN.search(question):
        return True
    return len(content_terms(question)) <= 1 and not method_names(question)


def rule_based_standalone(question: str, history: list[dict[str, str]]) -> str:
    """Extractive-mode follow-up rewrite: add the previous question and the start of the previous
    answer, so retrieval sees what "it" refers to."""
    if not history or not needs_context(question):
        return question
    users = [m["content"] for m in history if m.get("role") == "user" and m.get("content")]
    answers = [m["content"] for m in history if m.get("role") == "assistant" and m.get("content")]
    if not users:
        return question
    context = users[-1] + (f" {answers[-1][:150]}" if answers else "")
    return f"{question} (context: {context})"


_FINDS_PAPERS = re.compile(
    r"\b(which|what|any|find|list|name)\b[^?]{0,40}\b(papers?|works?|studies|study|articles?|methods?)\b"
    r"|\bis there (a |any )?(paper|work|study|method)\b",
    re.IGNORECASE,
)


def asks_for_papers(question: str) -> bool:
    """Whether the question asks which paper(s) do something (answerable from retrieval)."""
    return bool(_FINDS_PAPERS.search(question))
