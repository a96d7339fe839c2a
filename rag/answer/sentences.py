"""Sentence splitting tuned for scientific abstracts.

NLTK's punkt (bundled with llama-index) splits after "e.g." and "vs." and takes ~2 s to load;
a regex with an abbreviation guard is exact enough for abstracts and instant. "etc." is not
guarded: it closes a list, and a capital after it starts a sentence ("... label smoothing; etc.
Our method obtains 80.67% ...").
"""

from __future__ import annotations

import re

_ABBREVIATIONS = (
    "e.g",
    "i.e",
    "vs",
    "al",
    "fig",
    "figs",
    "eq",
    "eqs",
    "sec",
    "cf",
    "approx",
    "resp",
    "no",
    "dr",
    "mr",
    "ms",
    "prof",
    "inc",
    "ltd",
    "jr",
    "sr",
    "st",
    "ca",
    "viz",
    "ref",
    "refs",
)
_BOUNDARY = re.compile(r"(?<=[.!?])[\"')\]]*\s+(?=[\"'(\[]?[A-Z0-9])")
_ABBREV_END = re.compile(
    r"(?:\b(?:" + "|".join(re.escape(a) for a in _ABBREVIATIONS) + r")|\b[A-Z])\.$", re.IGNORECASE
)


def split_sentences(text: str) -> list[str]:
    """Sentences of ``text`` (stripped, non-empty), keeping abbreviations and decimals intact."""
    text = text.strip()
    if not text:
        return []
    out: list[str] = []
    start = 0
    for match in _BOUNDARY.finditer(text):
        candidate = text[start : match.start()].rstrip()
        if _ABBREV_END.search(candidate):
            continue
        if candidate:
            out.append(candidate)
        start = match.end()
    tail = text[start:].strip()
    if tail:
        out.append(tail)
    return out
