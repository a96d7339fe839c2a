"""Small text helpers shared by the readers: cleaning, URLs, and robust line reading."""

from __future__ import annotations

import codecs
import contextlib
import io
import re
from collections.abc import Iterator
from typing import BinaryIO

from ..tokens import count_tokens
from ..types import ParseWarning

_URL = re.compile(r"https?://[^\s<>\"'(){}\[\]]+")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_DECODED_NON_ASCII = re.compile(r"[^\x00-\x7f\ufffd]")
_SURROGATES = re.compile(r"[\ud800-\udfff]")

# Every chunk carries its paper's title, so a title must fit well inside a chunk (160 tokens).
MAX_TITLE_CHARS = 300
MAX_TITLE_TOKENS = 96
SNIFF_BYTES = 8192
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),  # before UTF-16 LE: it starts with the same two bytes
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


class NotTextError(ValueError):
    """The file is not text (binary data): it is skipped as a whole."""


def find_urls(text: str) -> tuple[str, ...]:
    """Code/project URLs mentioned in an abstract, in order, without trailing punctuation."""
    seen: dict[str, None] = {}
    for match in _URL.finditer(text):
        seen[match.group(0).rstrip(".,;:")] = None
    return tuple(seen)


def clean_text(text: str) -> str:
    """Drop control characters, replace lone surrogates (from JSON escapes) and collapse
    whitespace."""
    if _SURROGATES.search(text):
        text = _SURROGATES.sub("\ufffd", text)
    if _CONTROL.search(text):
        text = _CONTROL.sub(" ", text)
    return " ".join(text.split())  # str.split() and re's \s agree on what is whitespace


def title_problem(title: str) -> str | None:
    """Why ``title`` cannot be a paper title (no letters or digits, or too long to travel with
    every chunk), or ``None``."""
    if not any(ch.isalnum() for ch in title):
        return "title has no letters or digits"
    if len(title) > MAX_TITLE_CHARS:
        return f"title of {len(title):,} characters is too long (at most {MAX_TITLE_CHARS})"
    tokens = count_tokens(title) if len(title.encode()) > MAX_TITLE_TOKENS else 0  # tokens <= bytes
    if tokens > MAX_TITLE_TOKENS:
        return f"title of {tokens} tokens is too long (at most {MAX_TITLE_TOKENS})"
    return None


def sniff_encoding(sample: bytes) -> tuple[str, int]:
    """``(encoding, bom_length)`` of a file from its first bytes.

    ``utf-8`` unless a byte-order mark, or the NUL pattern of BOM-less UTF-16, says otherwise.
    Raises ``NotTextError`` for binary data: a sample that is mostly control characters and
    bytes that are not UTF-8 (random bytes, images, archives).
    """
    for bom, encoding in _BOMS:
        if sample.startswith(bom):
            return encoding, len(bom)
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8", len(codecs.BOM_UTF8)
    if b"\x00" in sample:
        even, odd = sample[0::2], sample[1::2]
        if len(sample) >= 4 and odd.count(0) >= 0.9 * len(odd) and even.count(0) <= 0.1 * len(even):
            return "utf-16-le", 0
        if len(sample) >= 4 and even.count(0) >= 0.9 * len(even) and odd.count(0) <= 0.1 * len(odd):
            return "utf-16-be", 0
    text = sample.decode("utf-8", errors="replace")
    bad = text.count("\ufffd") + len(_CONTROL.findall(text))  # NUL is a control character
    # A stray NUL or a broken character here and there is damage to report line by line; a
    # sample that is mostly neither text nor a legacy 8-bit encoding is a binary file.
    if text and bad > 1 and bad > 0.3 * len(text):
        raise NotTextError("binary file (mostly bytes that are not text); skipped")
    return "utf-8", 0


def decode_line(raw: bytes) -> tuple[str, str | None]:
    """Decode one line: UTF-8, else Windows-1252 for a line with no UTF-8 sequence at all
    (a Latin-1/CP1252 file), else UTF-8 with replacement characters. Returns the text and a
    warning message (``None`` when the line was valid UTF-8)."""
    try:
        return raw.decode("utf-8"), None
    except UnicodeDecodeError as exc:
        start = exc.start
    replaced = raw.decode("utf-8", errors="replace")
    if not _DECODED_NON_ASCII.search(replaced):
        try:
            return raw.decode("cp1252"), f"not UTF-8 (byte {start}); decoded as Windows-1252"
        except UnicodeDecodeError:
            return raw.decode("latin-1"), f"not UTF-8 (byte {start}); decoded as Latin-1"
    return replaced, f"invalid UTF-8 at byte {start}; replaced"


def read_lines(
    stream: BinaryIO, path: str, max_chars: int, warnings: list[ParseWarning]
) -> Iterator[tuple[int, str]]:
    """Yield ``(line_number, text)`` for each line of a text file.

    The encoding is sniffed from the first bytes (UTF-8, or UTF-16/32 with or without a
    byte-order mark); a binary file yields nothing and is reported once. A UTF-8 line that does
    not decode is decoded as Windows-1252 (or with replacement characters) and reported; a line
    longer than ``max_chars`` is skipped (without reading it all into memory) and reported.
    """
    sample = stream.read(SNIFF_BYTES)
    try:
        encoding, bom = sniff_encoding(sample)
    except NotTextError as exc:
        warnings.append(ParseWarning(path, 0, str(exc)))
        return
    stream.seek(bom)
    if encoding == "utf-8":
        yield from _utf8_lines(stream, path, max_chars, warnings)
    else:
        yield from _wide_lines(stream, encoding, path, max_chars, warnings)


def _too_long(path: str, number: int, size: str) -> ParseWarning:
    return ParseWarning(path, number, f"line of {size} is too long; skipped")


def _utf8_lines(
    stream: BinaryIO, path: str, max_chars: int, warnings: list[ParseWarning]
) -> Iterator[tuple[int, str]]:
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
            warnings.append(_too_long(path, number, f"{skipped:,} bytes"))
            yield number, ""
            continue
        text, problem = decode_line(raw)
        if problem:
            warnings.append(ParseWarning(path, number, problem))
        text = text.rstrip("\r\n")
        if len(text) > max_chars:
            warnings.append(_too_long(path, number, f"{len(text):,} characters"))
            text = ""
        yield number, text


def _wide_lines(
    stream: BinaryIO, encoding: str, path: str, max_chars: int, warnings: list[ParseWarning]
) -> Iterator[tuple[int, str]]:
    """Lines of a UTF-16/UTF-32 file (decoded incrementally, same limits as UTF-8)."""
    text_stream = io.TextIOWrapper(stream, encoding=encoding, errors="replace", newline="")  # type: ignore[arg-type]
    try:
        number = 0
        while True:
            line = text_stream.readline(max_chars + 2)
            if not line:
                return
            number += 1
            if not line.endswith(("\n", "\r")) and len(line) > max_chars:
                skipped = len(line)
                while line and not line.endswith(("\n", "\r")):
                    line = text_stream.readline(1 << 20)
                    skipped += len(line)
                warnings.append(_too_long(path, number, f"{skipped:,} characters"))
                yield number, ""
                continue
            if "\ufffd" in line:
                warnings.append(ParseWarning(path, number, f"invalid {encoding.upper()}; replaced"))
            line = line.rstrip("\r\n")
            if len(line) > max_chars:
                warnings.append(_too_long(path, number, f"{len(line):,} characters"))
                line = ""
            yield number, line
    finally:
        with contextlib.suppress(ValueError):  # leave the caller's stream open (and ours to close)
            text_stream.detach()
