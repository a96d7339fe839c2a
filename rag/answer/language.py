"""Questions in other languages: what the English-only models can still read.

The embedding model (all-MiniLM-L6-v2), the BM25 stemmer and the sentence scorer are English.
A question in German, Vietnamese or Chinese still carries what crosses languages: method names
("LightHGNN", "Spikformer-V2"), acronyms ("SVHN", "LSTM", "BLEU"), numbers, and English loan
words ("encoder", "benchmark"). For such a question the pipeline searches and scores sentences
with that *readable part* only; the rest is noise to an English model (a Chinese sentence embeds
near unrelated abstracts, and the sentence scorer rates every English sentence low against it).
In ``llm`` mode the model first translates such a question (:mod:`.translate`); this module is
what remains without a model (``extractive`` mode, or the model unreachable).

A question is English when most of its letters are Latin and most of its ordinary Latin words
are English words (pyspellchecker's list, as used by :mod:`rag.retrieve.spelling`).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from ..retrieve.spelling import is_english
from .terms import distinctive_names

#: Whether the collection uses a word (its stem is in some indexed chunk).
KnownWord = Callable[[str], bool]

_LETTER = re.compile(r"[^\W\d_]")
_LATIN = re.compile(r"[A-Za-zÀ-ÖØ-öø-ÿ]")
# A Latin-script word with its inner hyphens, apostrophes and digits ("Spikformer-V2", "WMT'14");
# it ends where another script starts ("SVHN街景" → "SVHN").
_L = "A-Za-zÀ-ÖØ-öø-ÿ0-9"
_WORD = re.compile(rf"[{_L}](?:[{_L}'’\-./]*[{_L}])?")
#: English words this short are also words of other languages ("die", "on", "per"): not evidence.
_MIN_ENGLISH = 4
#: A question is English when at least this share of its ordinary words are English words.
ENGLISH_SHARE = 0.6


def _ordinary(word: str) -> bool:
    """A lower-case or capitalised word without digits: one a dictionary can judge."""
    return word.isalpha() and (word.islower() or (word[:1].isupper() and word[1:].islower()))


def is_english_text(text: str, known: KnownWord | None = None) -> bool:
    """Whether ``text`` reads as English (see the module docstring).

    ``known``: whether the collection uses a word. A word it uses that is no dictionary word
    ("pytorch", "fuzzer", "sota") is a term of the field, evidence of neither language, and is
    left out of the count; so a question with many typos and such terms ("nueri dl fuzzer how
    mnay new bugs in pytorch ...") still reads as the English it is."""
    letters = _LETTER.findall(text)
    if not letters:
        return True
    if sum(1 for c in letters if _LATIN.match(c)) < 0.7 * len(letters):
        return False
    words = [w for w in _WORD.findall(text) if _ordinary(w) and len(w) >= 2]
    if known is not None:
        words = [w for w in words if is_english(w) or not known(w)]
    if not words:
        return True
    english = sum(1 for w in words if is_english(w))
    return english >= ENGLISH_SHARE * len(words)


#: Short words only English uses (not "in", "a", "no", "do": other languages write them too).
_ENGLISH_FRAME = frozenset(
    {"the", "of", "on", "for", "what", "how", "which", "with", "is", "are", "does", "did", "and", "to"}
    | {"that", "this", "from", "by", "its", "their"}
)


def has_english_frame(text: str) -> bool:
    """Whether ``text`` uses two or more different words only English has ("the", "what",
    "on"): a message with so many typos that it does not read as English ("wats the latncy n
    energy per inferenc 4 tht ...") is still English, not another language."""
    return len({w.lower() for w in _WORD.findall(text)} & _ENGLISH_FRAME) >= 2


def english_words(text: str) -> int:
    """How many ordinary English words ``text`` has (names, acronyms and numbers not counted)."""
    return sum(1 for w in _WORD.findall(text) if _ordinary(w) and len(w) >= 2 and is_english(w))


def _mostly_other_script(text: str) -> bool:
    """Whether most letters of ``text`` are not Latin (Chinese, Japanese, Korean, Russian ...)."""
    return sum(len(w) for w in _WORD.findall(text)) < 0.5 * len(_LETTER.findall(text))


def _name_like(word: str) -> bool:
    """A name, acronym or number: inner capitals, digits, or all capitals ("LightHGNN", "SVHN")."""
    core = word.strip("'’-./")
    return bool(core) and (any(c.isdigit() for c in core) or any(c.isupper() for c in core[1:]))


def readable_part(text: str) -> str:
    """The part of a non-English question an English model can read: names, acronyms, numbers
    and English words of four letters or more, in their order ("" when there is none)."""
    words = _WORD.findall(text)
    if _mostly_other_script(text):
        # Mostly another script (Chinese, Japanese, Korean, Russian): its Latin words are the
        # names and loan words ("GNNPipe", "epoch", "Penn Treebank").
        return " ".join(dict.fromkeys(words))
    kept = [w for w in words if _name_like(w) or (w.isalpha() and len(w) >= _MIN_ENGLISH and is_english(w))]
    return " ".join(dict.fromkeys(kept))


def name_words(text: str) -> list[str]:
    """The names, acronyms and numbers of ``text`` written in Latin letters or digits, in their
    order ("DMT-JEPA", "Kolmogorov-Arnold", "2"): what a translation of it must keep as is."""
    return list(dict.fromkeys(w for w in _WORD.findall(text) if _name_like(w)))


_CAPITALISED_RUN = re.compile(r"\b[A-Z][a-z]+(?: [A-Z][a-z]+)+\b")


def names_a_work(text: str) -> bool:
    """Whether a (non-English) question names something a paper could be found by: a method
    name or acronym ("LightHGNN", "SVHN", "Ptr-Net"), or a run of capitalised English words
    ("Pointer Networks", "Neural Circuit Diagrams")."""
    readable = readable_part(text) or text
    words = _WORD.findall(readable)
    if distinctive_names(readable) or any(_hyphenated_name(w) for w in words):
        return True
    if _mostly_other_script(text) and any(w[:1].isupper() or len(w) >= _MIN_ENGLISH for w in words):
        # A Latin word in Russian, Chinese or Korean text is a name ("Penn Treebank") or a term
        # the writer kept in English because it is the field's word for it ("그로킹(grokking)").
        return True
    return any(all(is_english(w) for w in run.split()) for run in _CAPITALISED_RUN.findall(text))


def _hyphenated_name(word: str) -> bool:
    """A hyphenated name whose parts are all short capitalised stems ("Ptr-Net", "Mix-LN"), not a
    compound of ordinary words ("Transformer-Modelle")."""
    parts = word.split("-")
    return len(parts) > 1 and all(p[:1].isupper() and len(p) <= 4 for p in parts)


def names_nothing_readable(text: str, known: KnownWord | None = None, *, english: bool | None = None) -> bool:
    """Whether ``text`` is in another language and names nothing the English search can match
    (:func:`names_a_work`): such a question is searched across languages where the multilingual
    encoder runs, else it cannot be read. ``english``: whether it is English, where already
    decided (``Plan.english``); else :func:`is_english_text` with ``known``."""
    if english is None:
        english = is_english_text(text, known)
    return not english and not names_a_work(text)
