"""Token counting with tiktoken (cl100k_base), offline."""

from __future__ import annotations

from functools import lru_cache

import tiktoken

from . import offline  # noqa: F401  (sets TIKTOKEN_CACHE_DIR before first use)


@lru_cache(maxsize=1)
def encoding() -> tiktoken.Encoding:
    """The cl100k_base encoding (loaded once)."""
    return tiktoken.get_encoding("cl100k_base")


def count_tokens(text: str) -> int:
    """Number of cl100k tokens in ``text``."""
    return len(encoding().encode(text, disallowed_special=()))
