"""Content words and numbers of a text, for lexical support checks."""

from __future__ import annotations

import re
from difflib import SequenceMatcher
from functools import lru_cache

import Stemmer
from bm25s.stopwords import STOPWORDS_EN

from ..retrieve.query import DOCUMENT_NOUNS
from ..retrieve.spelling import is_english

_WORD = re.compile(r"[A-Za-z][A-Za-z0-9\-]*[A-Za-z0-9]|[A-Za-z]")
# A number: not part of a word, nor an exponent ("U^2-Net", "O(n^2)").
_NUMBER = re.compile(r"(?<![\w.^])(\d+(?:[.,]\d+)*)\s*(%|[KkMmBb]\b|x\b|×)?")
_STOP = frozenset(STOPWORDS_EN) | {
    "paper",
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
    # Words naming the collection's documents: "Which works / abstracts ..." asks for papers;
    # nearly every abstract says "In this work" or "Previous works".
    "work",
    *DOCUMENT_NOUNS,
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
_NAME_NUMBER_HYPHEN = re.compile(r"(?<=[A-Za-z])-(?=\d)")


@lru_cache(maxsize=65536)
def content_terms(text: str) -> frozenset[str]:
    """Stemmed, lower-cased content words (stop words removed). A name's number is part of the
    word however it is joined: "ResNet-18" is "resnet18", as users write it."""
    words = [w.lower() for w in _WORD.findall(_NAME_NUMBER_HYPHEN.sub("", text))]
    return frozenset(_stemmer.stemWords([w for w in words if w not in _STOP and len(w) > 1]))


#: The words of a question asking for a relative value ("how much *faster*", "how much *better*").
RELATIVE_TARGETS = content_terms(
    "better worse faster slower cheaper smaller larger bigger higher lower fewer less more "
    "quicker shorter longer lighter improvement gain speedup reduction percentage percent"
)
# "1.71X", "35x", "2.45×", "10.1%", "2 to 25 times", "3-fold".
_RELATIVE_VALUE = re.compile(
    r"\d(?:[\d.,]*\d)?\s*(?:%|[xX×](?![\w-])|(?:-|\s)?(?:times|fold)\b)", re.IGNORECASE
)


def has_relative_value(sentence: str) -> bool:
    """Whether ``sentence`` states a ratio or a percentage ("1.71X speedup", "10.1% higher")."""
    return bool(_RELATIVE_VALUE.search(sentence))


def singular(terms: frozenset[str]) -> frozenset[str]:
    """Stemmed terms with a plural "s" the stemmer keeps dropped ("cts" → "ct", "gpus" → "gpu")."""
    return frozenset(t[:-1] if len(t) > 2 and t.endswith("s") and not t.endswith("ss") else t for t in terms)


def measure_terms(text: str) -> frozenset[str]:
    """The words of ``text`` that can name a measure, singular: its content terms, the parts
    of hyphenated ones ("FID-50K score" names "fid", as "FID score" does) and hyphenated ones
    written without the hyphen ("top-1" is "top1")."""
    return singular(
        content_terms(text) | content_terms(text.replace("-", " ")) | content_terms(text.replace("-", ""))
    )


#: "(1) CNNs with fully-connected layers, (2) ...": the numbers of an enumeration state no value.
_ENUMERATION = re.compile(r"\(\d{1,2}\)(?=\s)")


def without_enumerators(text: str) -> str:
    """``text`` with the "(1)", "(2)" of an enumeration blanked (same length, so positions keep)."""
    return _ENUMERATION.sub(lambda m: " " * len(m.group(0)), text)


def numbers(text: str) -> set[str]:
    """Numbers in ``text``, normalized ("354K" → "354k", "1,000" → "1000", "45 %" → "45%"); not
    the numbers of an enumeration ("(1) CNNs ..., (2) ...")."""
    out = set()
    for value, unit in _NUMBER.findall(without_enumerators(text)):
        out.add(value.replace(",", "") + (unit or "").lower().replace("×", "x"))
    return out


#: Counts written as words ("with eleven hidden layers", "two or three hidden layers"): values a
#: "how many" question is answered by. "one" is left out (mostly a pronoun: "one of"), and so
#: are magnitudes ("tens to hundreds of millions of parameters"), which count nothing exactly.
COUNT_WORDS = (
    r"(?i:\b(?:two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen"
    r"|sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety"
    r"|hundred|thousand)\b)"
)
_COUNT_WORD = re.compile(COUNT_WORDS)


def states_value(text: str) -> bool:
    """Whether ``text`` states a value: a number, or a count in words ("eleven hidden layers")."""
    return bool(numbers(text)) or _COUNT_WORD.search(text) is not None


def bare_numbers(text: str) -> set[str]:
    """Numbers without units (so "354K" in an answer matches "354K" or "354 K" in a source)."""
    return {re.sub(r"[%kmbx]$", "", n) for n in numbers(text)}


# A version number with a dot and a power are part of the name: "Llama-3.1-70B", "GPT-3.5",
# "U^2-Net", "LLMEval^2".
_NAME = re.compile(r"\b[A-Za-z][A-Za-z0-9]*(?:(?:-|[.^](?=\d))[A-Za-z0-9]+)*\b")


def _name_like(part: str) -> bool:
    inner_caps = any(c.isupper() for c in part[1:]) and any(c.islower() for c in part)
    letters_digits = any(c.isdigit() for c in part) and any(c.isalpha() for c in part)
    return inner_caps or letters_digits


_LOWER_NAME_NUMBER = re.compile(r"[a-z]{3,}-\d+[a-z]?")
#: "top-1", "layer-12", "int-8": a measure, a position or a format with its number, not a name.
_COUNTED_WORDS = frozenset(
    {"top", "int", "uint", "layer", "layers", "step", "steps", "stage", "phase", "table", "figure", "section"}
    | {"version", "epoch", "round", "level", "order", "rank", "head", "block", "bit", "bits"}
)

_COUNTED = re.compile(r"([a-z]+)\d+")

#: "AlphaZero-like", "BERT-style", "Transformer-inspired": the name describes something else by
#: resemblance; the text is not about that method (the corpus need not mention it).
_RESEMBLANCE = frozenset({"like", "style", "styled", "esque", "inspired", "type", "alike"})


def method_names(text: str) -> set[str]:
    """Names of methods/models in ``text``: words mixing cases or letters and digits, such as
    "ByteNet", "D3Net", "UniFormer", or hyphenated with such a part or an acronym ("Mix-LN").
    Plain words, all-caps acronyms alone, "English-German" and names used only for a
    resemblance ("an AlphaZero-like agent") are not names."""
    out = set()
    for found in _NAME.findall(text):
        if found.rsplit("-", 1)[-1].lower() in _RESEMBLANCE and "-" in found:
            continue
        if "^" in found and found[0].islower():  # "n^2", "d^4": a power, not a name
            continue
        counted = _COUNTED.fullmatch(found.lower())
        if counted and counted.group(1) in _COUNTED_WORDS:  # "top1", "INT8": "top-1", "int-8"
            continue
        if _LOWER_NAME_NUMBER.fullmatch(found) and found.split("-")[0] not in _COUNTED_WORDS:
            # "resnet-152", "cifar-100" typed in lower case: the name as "resnet152" is.
            out.add(found)
            continue
        # "D3Net-based" names D3Net; "Mix-LN" is a name as a whole.
        parts = [p for p in found.split("-") if not (p.islower() and len(p) > 3)] or [found]
        word = "-".join(parts)
        if len(parts) == 1:
            if _name_like(parts[0]):
                out.add(word.lower())
        elif any(_name_like(p) or (p.isupper() and len(p) >= 2) for p in parts):
            out.add(word.lower())
    return out


_ACRONYM = re.compile(r"\b[A-Z][A-Z0-9]*[A-Z][A-Z0-9]*\b")


def distinctive_names(question: str) -> set[str]:
    """Method names and acronyms of the question, lower-cased ("VanillaNet", "GNMT", "BLEU")."""
    return method_names(question) | {a.lower() for a in _ACRONYM.findall(question)}


# Two or more capitalized words in a row ("the Global Magnitude Pruning case study", "Penn
# Treebank"); a sentence's first word is capitalized anyway and does not start one.
_TITLE_RUN = re.compile(r"(?<![.!?:]\s)(?<!^)\b[A-Z][a-z]+(?:[ -][A-Z][a-z]+)+\b")


def title_phrases(text: str) -> set[str]:
    """Runs of capitalized words naming a work, a method or a dataset by its title words, as
    users do ("the Global Magnitude Pruning case study", "Penn Treebank"), lower-cased."""
    return {run.lower() for run in _TITLE_RUN.findall(text.strip())}


def item_names(sentence: str, known: str = "") -> set[str]:
    """The names ``sentence`` gives that ``known`` (the question, the paper's title) does not:
    datasets, benchmarks, tasks or hardware named as "ImageNet-1K", "ERA5", "MNIST", "IMDb"
    (:func:`distinctive_names`), lower-cased. A plural acronym ("SNNs", "LLMs") names a kind of
    model, not an item."""
    return distinctive_names(_PLURAL_ACRONYM.sub(" ", sentence)) - distinctive_names(known)


_PLURAL_ACRONYM = re.compile(r"\b[A-Z]{2,}s\b")


def names_typed(text: str, names: set[str]) -> set[str]:
    """Which of the (lower-cased) ``names`` ``text`` writes as whole words in any case, its hyphens
    also as spaces or left out: users type "tiny imagenet" for "Tiny-ImageNet", "resnet50" for
    "ResNet-50". A name that is one English word ("Transformer") is not looked for."""
    lowered = text.lower()
    found = set()
    for name in names:
        if "-" not in name and is_english(name):
            continue
        for form in {name, name.replace("-", " "), name.replace("-", "")}:
            if re.search(rf"(?<![\w-]){re.escape(form)}(?![\w-])", lowered):
                found.add(name)
                break
    return found


_DIGITS = re.compile(r"\d+")


def _close(name: str, words: set[str]) -> bool:
    """``name`` or a near-spelling of it (one slip: "ByteNett", "Mix-NL") is among ``words``."""
    if name in words:
        return True
    if len(name) < 5:
        return False
    # A slip of the keys leaves the numbers alone; a different number is a different variant
    # ("ImageNet-1K" is not "ImageNet-100", "LLaMA-3-70B" not "LLaMA-2-7B"). A word the name
    # only adds letters to is a part of it, not a slip: "lane" is not "CULane".
    digits = _DIGITS.findall(name)
    return any(
        abs(len(w) - len(name)) <= 2
        and not (len(name) - len(w) >= 2 and w in name)
        and _DIGITS.findall(w) == digits
        and SequenceMatcher(None, name, w).ratio() >= 0.8
        for w in words
    )


def names_supported(claim: str, evidence: str, *, require_all: bool = False) -> bool:
    """If the claim names methods, at least one of them — or all, with ``require_all`` — is in
    the evidence (a near-spelling counts)."""
    names = method_names(claim)
    if not names:
        return True
    found = names_found(names, evidence)
    return len(found) == len(names) if require_all else bool(found)


@lru_cache(maxsize=256)
def _introducing(name: str) -> re.Pattern[str]:
    n = re.escape(name)
    return re.compile(
        rf"\(\s*{n}\s*[),;]|\b{n}\s*(?:\([^)]*\)\s*)?(?:,\s*|\s+(?:is|are)\s+)(?:a|an)\s"
        rf"|\b(?:called|named|dubbed|termed|coined)\s+(?:the\s+)?{n}\b",
        re.IGNORECASE,
    )


def introduces(name: str, text: str) -> bool:
    """Whether ``text`` introduces ``name``: with its long form ("Sketched Isotropic Gaussian
    Regularization (SIGReg)"), as "SIGReg, a ..." / "SIGReg is a ...", or "called SIGReg". A
    paper that only uses a name ("methods of the JEPA family (I-JEPA and DINOv2)") does not."""
    return _introducing(name).search(text) is not None


#: Nicknames of generic model families that are written like names ("ConvNet"), and the words
#: an abstract uses for the family instead ("convolutional neural network", "CNN").
GENERIC_NAMES: dict[str, tuple[str, ...]] = {
    "convnet": ("convolutional", "cnn"),
    # A field's acronym, written out in abstracts that never abbreviate it ("RL-based neural
    # architecture search" is "Neural Architecture Search with Reinforcement Learning").
    "rl": ("reinforcement learning",),
    "nas": ("architecture search",),
    "kd": ("knowledge distillation",),
    "llm": ("large language model",),
    "gnn": ("graph neural network",),
}


def names_found(names: set[str] | tuple[str, ...], evidence: str) -> set[str]:
    """Which of the (lower-cased) method ``names`` the evidence mentions (a near-spelling counts,
    and a generic family's nickname is found under its usual words: :data:`GENERIC_NAMES`)."""
    haystack = evidence.lower()
    unhyphenated = haystack.replace("-", "")
    words = {w.lower() for w in _NAME.findall(evidence)}
    return {
        name
        for name in names
        for form in _name_forms(name)
        # "Spikformer-V2" is also written "Spikformer V2"; "ResNet50" and "top1" are "ResNet-50"
        # and "top-1" without the hyphen.
        if _contains(haystack, form)
        or _contains(haystack, form.replace("-", " "))
        or _contains(unhyphenated, form.replace("-", ""))
        or _close(form, words)
        or any(word in haystack for word in GENERIC_NAMES.get(form, ()))
    }


def _contains(text: str, form: str) -> bool:
    """``form`` occurs in ``text``; a form ending in a number not as the start of a longer number
    ("CIFAR-10" is not in "CIFAR-100", "ResNet-5" not in "ResNet-50")."""
    if not form[-1:].isdigit():
        return form in text
    return re.search(rf"{re.escape(form)}(?!\d)", text) is not None


_WORD_PART = re.compile(r"[^\W\d_]{4,}")


def _name_forms(name: str) -> list[str]:
    """A name, its singular and, for a compound another language makes of it ("spikformer-v2-modell",
    "imagenet-genauigkeit"), the name without the trailing words. A variant tag ("efficientnet-b7",
    "llama-3-70b") or an English word ("llama-adapter", "bert-large") is part of the name and
    stays, and what is left must still be a name of four or more characters ("i-jepa" stays)."""
    forms = [name]
    if name.endswith("s") and not name.endswith("ss") and len(name) > 3:
        forms.append(name[:-1])  # "CNNs", "ViTs", "LLMs": the plural of a name is that name
    parts = name.split("-")
    while len(parts) > 1 and _WORD_PART.fullmatch(parts[-1]) and not is_english(parts[-1]):
        parts.pop()
        if len("-".join(parts)) < 4:
            break
        forms.append("-".join(parts))
    return forms
