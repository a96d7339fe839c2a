"""Spelling correction against the collection's own vocabulary ("did you mean").

A question word that no indexed chunk contains and that is not an English word ("SpcaeEvo",
"quantizaton", "evaulated") is replaced by a word one edit away (a letter deleted, inserted,
replaced, or two neighbours swapped: Norvig's ``edits1``) whose stem the collection contains.
Only words the index does not know are touched, so a correctly spelled question never changes;
the lexical index answers
"how many chunks contain this stem" (:meth:`LexicalIndex.doc_freq`), so the check costs one
term lookup per candidate and works the same at any collection size.

The index holds stems, and one edit can land on a stem of another word ("canditate" →
"conditate", stemmed "condit" like "condition"). So an English word (pyspellchecker's frequency
list) is chosen for a lower-case word, a coined name ("SpaceEvo") for a word written like a
name, and among those the stem more chunks contain wins (:func:`_candidate`). A lower-case word
of another language ("viele") must not become a stem of the collection ("viewe", stemmed
"view"), and a name is only corrected by a dropped, doubled or swapped letter.

Chat shorthand for function words ("hw mny", "wat", "wich", "nd": :data:`SHORTHAND`) is
written out in an English question, where no chunk uses it.

Left alone: other words shorter than :data:`MIN_LENGTH` (one edit turns "GPT" into many words),
acronyms and words with digits or non-ASCII letters (names like "GNMT" or "ResNet-50", and
words of other languages, whose one-edit neighbours are rarely what was meant), and stop words.
A question about a method the corpus lacks keeps its name unless that name is one edit away
from a word the corpus uses, which the answer's notice then shows.
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from ..index.lexical.analysis import terms

#: Shorter words are never corrected.
MIN_LENGTH = 5
#: Shorter names are not corrected: one edit from a short name is often another name.
MIN_NAME_LENGTH = 7
_WORD = re.compile(r"(?<![\w'’])[A-Za-z]+(?![\w'’])")
#: Chat shorthand for the words that shape a question ("hw mny CTs ..." asks "how many"): too
#: short for the edit-distance correction, yet what the plan reads to know what is asked.
#: Only function words: a shorthand that could be a name or a variable ("n", "4") is left alone.
SHORTHAND = {
    "hw": "how", "hwo": "how", "mny": "many", "wat": "what", "wht": "what", "whats": "what's",
    "wats": "what's", "wich": "which", "whch": "which", "wher": "where", "wen": "when",
    "nd": "and", "abt": "about", "thru": "through", "tho": "though", "bc": "because",
    "cuz": "because", "coz": "because", "pls": "please", "plz": "please", "tht": "that",
    "dat": "that", "da": "the", "teh": "the", "u": "you", "ur": "your", "r": "are",
    "theres": "there's", "doesnt": "doesn't", "dont": "don't", "didnt": "didn't", "isnt": "isn't",
}  # fmt: skip
#: "... deep nets n how do they handle relu": a lone "n" before a question word is "and" (before
#: anything else it may be a variable: "with n layers").
_CHAT_AND = re.compile(
    r"(?<![\w'’])n(?=\s+(?:how|what|which|where|when|why|who|hw|wat|wich|wht|whch)\b)", re.IGNORECASE
)
_LETTERS = string.ascii_lowercase


@dataclass(frozen=True)
class Correction:
    """The corrected text and what was changed (``{"SpcaeEvo": "SpaceEvo"}``)."""

    text: str
    changes: dict[str, str] = field(default_factory=dict)


def edits1(word: str, *, replace: bool = True) -> set[str]:
    """Every string one deletion, transposition, insertion or (with ``replace``) replacement
    away from ``word``."""
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    deletes = {a + b[1:] for a, b in splits if b}
    swaps = {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
    replaces = {a + c + b[1:] for a, b in splits if b for c in _LETTERS} if replace else set()
    inserts = {a + c + b for a, b in splits for c in _LETTERS}
    return (deletes | swaps | replaces | inserts) - {word}


def chunk_count(word: str, doc_freq: Callable[[str], int]) -> int:
    """How many chunks contain ``word`` (its one stem, by ``doc_freq``); 0 for a word the
    collection never uses and for a stop word (no stem)."""
    stems = terms([word])[0]
    return doc_freq(stems[0]) if len(stems) == 1 else 0


def is_english(word: str) -> bool:
    """Whether ``word`` is in pyspellchecker's English word list."""
    return bool(_english()[word.lower()] > 0)


def _with_case(original: str, word: str) -> str:
    """``word`` cased like ``original`` ("SpcaeEvo" → "SpaceEvo"; "Quantizaton" → "Quantization")."""
    if len(original) == len(word):
        return "".join(c.upper() if o.isupper() else c for o, c in zip(original, word, strict=True))
    return word[:1].upper() + word[1:] if original[:1].isupper() else word


@lru_cache(maxsize=1)
def _english() -> Any:
    """pyspellchecker's English word-frequency list (loaded once, ~0.2 s)."""
    from spellchecker import SpellChecker

    return SpellChecker(language="en", distance=1, case_sensitive=False)


def _candidate(
    word: str, doc_freq: Callable[[str], int], occurs: Callable[[str], str | None] | None = None
) -> str | None:
    """The word one edit from ``word`` that the collection contains (see the module docstring):

    - a lower-case word becomes an English word ("canditate" → "candidate"), never a name;
    - a name with an inner capital ("SpcaeEvo") becomes a name, never an English word;
    - a capitalised word ("Quantizaton", "Spikfomer") becomes an English word if it can, else
      a name.

    A name with one letter replaced is usually another name ("RetNet" is not "ResNet",
    "Mixtral" not "Mistral"), while a slip of the keys swaps, drops or doubles one ("SpcaeEvo",
    "ByteNett"): names are only corrected by those. Among the candidates of a kind, the stem
    more chunks contain wins. ``None`` if there is none.
    """
    lower = word.lower()
    inner_capital = any(c.isupper() for c in word[1:])

    def best(options: set[str], want_english: bool) -> str | None:
        ordered = sorted(o for o in options if is_english(o) == want_english)
        ranked = sorted(((df, o) for o in ordered if (df := chunk_count(o, doc_freq)) > 0), reverse=True)
        if want_english:
            return ranked[0][1] if ranked else None
        # A name must be a word the collection uses, not only share a stem with one ("RetNet"
        # → "retent", the stem of "retention"); it is written as the collection writes it.
        for _, option in ranked:
            spelled = occurs(option) if occurs is not None else option
            if spelled:
                return spelled
        return None

    if not inner_capital:
        fixed = best(edits1(lower), want_english=True)
        if fixed is not None or not word[:1].isupper():
            return fixed
    if len(word) < MIN_NAME_LENGTH:  # "RetNet" is one edit from "ReNet", another model
        return None
    return best(edits1(lower, replace=False), want_english=False)


def correct_spelling(
    text: str,
    doc_freq: Callable[[str], int],
    occurs: Callable[[str], str | None] | None = None,
    *,
    names_only: bool = False,
) -> Correction:
    """``text`` with each word the index does not know replaced by its closest known word (see
    the module docstring); ``doc_freq`` maps a stem to the number of chunks that contain it,
    ``occurs`` gives a (lower-cased) word as some paper writes it as a whole word, or ``None``;
    with ``names_only`` (a question in another language) only words written like names are
    corrected."""
    joined: dict[str, str] = {}
    if not names_only and _CHAT_AND.search(text):
        text, joined = _CHAT_AND.sub("and", text), {"n": "and"}
    words = {m.group(0) for m in _WORD.finditer(text)}
    changes: dict[str, str] = {}
    for word in sorted(words):
        short = SHORTHAND.get(word.lower())
        if short and not names_only and not word.isupper() and chunk_count(word, doc_freq) == 0:
            changes[word] = _with_case(word, short)
            continue
        if (
            len(word) < MIN_LENGTH
            or word.isupper()
            or (names_only and not any(c.isupper() for c in word[1:]))
        ):
            continue
        if not terms([word])[0] or chunk_count(word, doc_freq) > 0 or is_english(word):
            continue  # a stop word, a word the collection uses, or an English word ("ships")
        fixed = _candidate(word, doc_freq, occurs)
        if fixed is not None:
            changes[word] = fixed if fixed != fixed.lower() else _with_case(word, fixed)
    if not changes:
        return Correction(text, joined)
    pattern = re.compile(r"(?<![\w'’])(" + "|".join(map(re.escape, changes)) + r")(?![\w'’])")
    return Correction(pattern.sub(lambda m: changes[m.group(1)], text), {**joined, **changes})
