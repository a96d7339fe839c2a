"""Small text helpers shared by the readers."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import BinaryIO

from ..types import ParseWarning

_URL = re.compile(r"https?://[^\s<>\"'(){}\[\]]+")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SPACES = re.compile(r"\s+")


def find_urls(text: str) -> tuple[str, ...]:
    """Code/project URLs mentioned in an abstract, in order, without trailing punctuation."""
    seen: dict[str, None] = {}
    for match in _URL.finditer(text):
        seen[match.group(0).rstrip(".,;:")] = None
    return tuple(seen)


def clean_text(text: str) -> str:
    """Drop control characters and collapse whitespace."""
    return _SPACES.sub(" ", _CONTROL.sub(" ", text)).strip()


def read_lines(
    stream: BinaryIO, path: str, max_chars: int, warnings: list[ParseWarning]
) -> Iterator[tuple[int, str]]:
    """Yield ``(line_number, text)`` for each line, decoding UTF-8 line by line.

    A line that is not valid UTF-8 is decoded with replacement characters and reported; a line
    longer than ``max_chars`` is skipped (without reading it all into memory) and reported.
    """
    number = 0
    limit = max_chars * 4 + 4  # bytes: UTF-8 needs at most 4 bytes per character
    while True:
        raw = stream.readline(limit)
        if not raw:
            return
        number += 1
        if not raw.endswith(b"\n") and len(raw) >= limit:
            skipped = len(raw)
            while raw and not raw.endswith(b"\n"):
                raw = stream.readline(1 << 20)
                skipped += len(raw)
            warnings.append(ParseWarning(path, number, f"line of {skipped:,} bytes is too long; skipped"))
            yield number, ""
            continue
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            text = raw.decode("utf-8", errors="replace")
            warnings.append(ParseWarning(path, number, f"invalid UTF-8 at byte {exc.start}; replaced"))
        text = text.rstrip("\r\n")
        if len(text) > max_chars:
            warnings.append(
                ParseWarning(path, number, f"line of {len(text):,} characters is too long; skipped")
            )
            text = ""
        yield number, text
