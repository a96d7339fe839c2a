"""The one tokenisation every lexical backend uses: lower-cased words of two or more
characters, English stop words removed, Snowball-stemmed (bm25s' tokenizer with PyStemmer).

A backend that has its own analyzer (Tantivy) is fed the stems joined by spaces, so the same
text gives the same terms on every backend and switching backends never changes what matches.
"""

from __future__ import annotations

import re
from typing import Any

import bm25s
import Stemmer

STOPWORDS = "en"
_stemmer = Stemmer.Stemmer("english")


# Where Latin letters or digits meet another script with no space ("在SVHN街景", "LightHGNN은"):
# a word boundary, so the name is its own token.
_SCRIPT_EDGE = re.compile(r"(?<=[A-Za-z0-9])(?=[^\W\d_A-Za-zÀ-ɏ])|(?<=[^\W\d_A-Za-zÀ-ɏ])(?=[A-Za-z0-9])")


def tokenize(texts: list[str]) -> Any:
    """bm25s tokens for ``texts`` (ids into a vocabulary, for :mod:`bm25s`)."""
    texts = [_SCRIPT_EDGE.sub(" ", t) for t in texts]
    return bm25s.tokenize(texts, stopwords=STOPWORDS, stemmer=_stemmer, show_progress=False)


def terms(texts: list[str]) -> list[list[str]]:
    """The terms (stems) of each text, in order, repeats kept."""
    if not texts:
        return []
    tokens = tokenize(texts)
    words = {i: w for w, i in tokens.vocab.items()}
    return [[words[i] for i in ids if words[i]] for ids in tokens.ids]
