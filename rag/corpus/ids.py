"""Stable, content-derived paper ids."""

from __future__ import annotations

import hashlib
import re
import unicodedata

_NON_WORD = re.compile(r"[\W_]+")


def normalize_title(title: str) -> str:
    """Case-, accent- and punctuation-insensitive form of a title (letters of any script kept)."""
    text = unicodedata.normalize("NFKD", title)
    text = "".join(c for c in text if unicodedata.category(c) != "Mn")
    return _NON_WORD.sub(" ", text.casefold()).strip()


def paper_id(title: str) -> str:
    """Id of a paper: a hash of its normalized title, so it survives re-ordering and edits
    to the abstract, and the same paper gets the same id in every file and format."""
    digest = hashlib.sha1(normalize_title(title).encode()).hexdigest()
    return f"p{digest[:12]}"
