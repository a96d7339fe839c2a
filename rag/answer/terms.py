"""Content words and numbers of a text, for lexical support checks."""

from __future__ import annotations

import re
from functools import lru_cache

import Stemmer
from bm25s.stopwords import STOPWORDS_EN

_WORD = re.compile(r"[A-Za-z][A-Za-z0-9\-]*[A-Za-z0-9]|[A-Za-z]")
_NUMBER = re.compile(r"(?<![\w.])(\d+(?:[.,]\d+)*)\s*(%|[KkMmBb]\b|x\b|×)?")
_STOP = frozenset(STOPWORDS_EN) | {
    "paper",
    "papers",
    "propose",
    "proposed",
    "proposes",
    "method",
    "methods",
    "approach",
    "model",
    "models",
    "based",
    "using",
    "use",
    "used",
    "show",
    "shows",
    "also",
    "new",
    "novel",
    "work",
    "how",
    "many",
    "much",
    "what",
    "which",
    "who",
    "whom",
    "whose",
    "when",
    "where",
    "why",
    "does",
    "do",
    "did",
    "have",
    "has",
    "had",
    "is",
    "are",
    "was",
    "were",
    "can",
    "could",
    "would",
    "tell",
    "me",
    "about",
    "describe",
    "explain",
    "please",
    "any",
    "there",
}
_stemmer = Stemmer.Stemmer("english")


@lru_cache(maxsize=65536)
def content_terms(text: str) -> frozenset[str]:
    """Stemmed, lower-cased content words (stop words removed)."""
    words = [w.lower() for w in _WORD.findall(text)]
    return frozenset(_stemmer.stemWords([w for w in words if w not in _STOP and len(w) > 1]))


def numbers(text: str) -> set[str]:
    """Numbers in ``text``, normalized ("354K" → "354k", "1,000" → "1000", "45 %" → "45%")."""
    out = set()
    for value, unit in _NUMBER.findall(text):
        out.add(value.replace(",", "") + (unit or "").lower().replace("×", "x"))
    return out


def bare_numbers(text: str) -> set[str]:
    """Numbers without units (so "354K" in an answer matches "354K" or "354 K" in a source)."""
    return {re.sub(r"[%kmbx]$", "", n) for n in numbers(text)}


_NAME = re.compile(r"\b[A-Za-z][A-Za-z0-9]*(?:-[A-Za-z0-9]+)*\b")


def method_names(text: str) -> set[str]:
    """Names of methods/models in ``text``: words mixing cases or letters and digits, such as
    "ByteNet", "D3Net", "Mix-LN", "UniFormer" (not plain words or all-caps acronyms)."""
    out = set()
    for found in _NAME.findall(text):
        # "D3Net-based" names D3Net; "Mix-LN" and "En-De" are names as a whole.
        word = "-".join(p for p in found.split("-") if not (p.islower() and len(p) > 3)) or found
        letters = word.replace("-", "")
        mixed_case = any(c.isupper() for c in letters[1:]) and any(c.islower() for c in letters)
        has_digit = any(c.isdigit() for c in letters) and any(c.isalpha() for c in letters)
        if mixed_case or (has_digit and not letters.isdigit()):
            out.add(word.lower())
    return out


def names_supported(claim: str, evidence: str) -> bool:
    """If the claim names methods, at least one of them appears in the evidence."""
    names = method_names(claim)
    if not names:
        return True
    haystack = evidence.lower()
    return any(name in haystack for name in names)
