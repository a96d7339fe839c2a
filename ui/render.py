"""Pure formatting for the web UI: conversation turns → HTML, sources panel, copyable text.

Everything that comes from the corpus, the model or the user (titles, abstracts, answers,
questions, notices, URLs) is HTML-escaped here; the app only puts these strings on the page.
Nothing in this module calls the pipeline: it formats :class:`rag.Answer` objects it is given.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from rag.answer.citations import parse_markers
from rag.index.metadata import meta_list
from rag.types import Answer, Citation, CollectionSummary, ModeInfo, Paper, SearchResult

# "[1]", "[1][2]" (each bracket matched separately), "[1, 2]", "[1-3]".
_MARKER = re.compile(r"\[(\d+(?:\s*(?:,|;|-|–)\s*\d+)*)\]")
_QUOTE_PIECES = re.compile(r"(?<=[.!?])\s+")
_C0_OR_SPACE = "".join(map(chr, range(0x21)))  # what WHATWG URL parsing strips at the ends
CLOSEST_SHOWN = 3
SHORT_QUESTION = 90


@dataclass
class Turn:
    """One question of the conversation and what became of it.

    While the answer is being produced, ``status`` holds the latest progress message and
    ``draft`` the text streamed so far; ``answer`` (with ``papers``: the full records of the
    papers it shows) replaces both when it arrives. ``error`` is set when answering failed.
    """

    question: str
    status: str = ""
    draft: str = ""
    answer: Answer | None = None
    papers: dict[str, Paper] = field(default_factory=dict)
    error: str | None = None

    @property
    def pending(self) -> bool:
        """True while neither an answer nor an error has arrived."""
        return self.answer is None and self.error is None


def esc(text: object) -> str:
    """``text`` made safe to put inside HTML elements and attribute values."""
    return html.escape(str(text), quote=True)


def safe_url(url: str | None) -> str | None:
    """``url`` if it is an absolute http(s) URL (so never ``javascript:``), else ``None``.

    It is returned as browsers and ``urlsplit`` read it: without the leading and trailing
    control characters and spaces, and the tabs and newlines anywhere, that both ignore (so
    ``"\\x08HTTP://x"`` gives ``"HTTP://x"``, and the link is the URL that was checked).
    """
    if not url:
        return None
    url = re.sub(r"[\t\n\r]", "", url.strip().strip(_C0_OR_SPACE))
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    return url


def source_anchor(turn: int, marker: int) -> str:
    """Element id of the card of citation ``marker`` of turn ``turn`` (both 1-based)."""
    return f"sch-src-{turn}-{marker}"


def closest_anchor(turn: int, rank: int) -> str:
    """Element id of the card of the ``rank``-th closest paper of an abstained turn."""
    return f"sch-near-{turn}-{rank}"


def marker_numbers(text: str) -> list[int]:
    """Citation numbers used in ``text``, in order of first use (ranges expanded)."""
    out: list[int] = []
    for group in _MARKER.findall(text):
        for number in _expand(group):
            if number not in out:
                out.append(number)
    return out


def _expand(group: str) -> list[int]:
    """Marker numbers in the inside of one ``[...]`` group (the library's own parser)."""
    return parse_markers(f"[{group}]")[1]


def _linkable(group: str, known: set[int]) -> list[int] | None:
    """The numbers to link for the marker group ``[group]``, or ``None`` to show it as text.

    A group is linked only when it is a valid marker whose every number has a card, and
    linking it loses nothing: every number written in it is among the expanded numbers
    (so not a reversed range like ``[5-2]``, nor a range past the parser's cap).
    """
    numbers = _expand(group)
    if not numbers or not set(numbers) <= known:
        return None
    if not {int(n) for n in re.findall(r"\d+", group)} <= set(numbers):
        return None
    return numbers


def _cite_links(numbers: list[int], turn: int) -> str:
    return "".join(
        f'<a class="sch-cite" href="#{source_anchor(turn, number)}" '
        f'data-marker="{number}" title="Source {number}">[{number}]</a>'
        for number in numbers
    )


def link_markers(escaped: str, turn: int, known: set[int]) -> str:
    """Turn the markers of already-escaped text into links to the turn's source cards.

    A group that is not a valid marker made only of numbers with a card (``known``) stays
    exactly as it was written. Markers broken by a ``<br>`` are not seen here: prefer
    :func:`answer_body`, which finds markers before escaping.
    """

    def replace(match: re.Match[str]) -> str:
        numbers = _linkable(match.group(1), known)
        return match.group(0) if numbers is None else _cite_links(numbers, turn)

    return _MARKER.sub(replace, escaped)


def _blocks(text: str) -> list[str]:
    """``text`` cut into paragraphs at blank lines, each stripped; empty ones dropped."""
    return [b.strip() for b in re.split(r"\n\s*\n", text.strip()) if b.strip()]


def _lines(text: str) -> str:
    """Escaped ``text`` with each newline as ``<br>``."""
    return esc(text).replace("\n", "<br>")


def paragraphs(text: str) -> str:
    """Escaped ``text`` as ``<p>`` paragraphs (a single newline becomes ``<br>``)."""
    return "".join(f"<p>{_lines(b)}</p>" for b in _blocks(text))


def state_badge(answer: Answer) -> tuple[str, str] | None:
    """(kind, label) of the badge over an answer that is not a plain cited answer: abstained,
    a question the search could not read or a model answer withheld as unverifiable (in both,
    it is not known that the corpus lacks the answer), or one answered across languages;
    ``None`` otherwise."""
    if answer.abstained:
        cause = (answer.answerability or {}).get("cause")
        if cause == "foreign_without_names":
            return "unread", "Question not read: ask in English or name the work"
        if cause == "unverified":
            return "withheld", "Answer withheld: it could not be verified"
        return "abstained", "Not answered by the corpus"
    if answer.crosslingual:
        return "crosslingual", "Found across languages"
    return None


def answer_body(text: str, turn: int, known: set[int]) -> str:
    """The final answer text as HTML paragraphs with linked citation markers.

    Markers are found in the raw text, before escaping and before newlines become ``<br>``,
    so the UI sees the same markers as the library (``[1,\\n2]`` is one marker). Everything
    that is not a linked marker is shown as the escaped text it was.
    """
    out: list[str] = []
    for block in _blocks(text):
        pieces: list[str] = []
        last = 0
        for match in _MARKER.finditer(block):
            numbers = _linkable(match.group(1), known)
            if numbers is None:
                continue  # stays in the text around it
            pieces.append(_lines(block[last : match.start()]))
            pieces.append(_cite_links(numbers, turn))
            last = match.end()
        pieces.append(_lines(block[last:]))
        out.append(f"<p>{''.join(pieces)}</p>")
    return "".join(out)


# -- highlighting ----------------------------------------------------------------------------
def quote_spans(abstract: str, quote: str) -> list[tuple[int, int]]:
    """Character spans of ``abstract`` that hold the sentence(s) of ``quote`` (merged, sorted).

    The quote is looked up whole first, then sentence by sentence, tolerating differences in
    whitespace. Pieces that cannot be found are skipped.
    """
    quote = quote.strip()
    if not quote or not abstract:
        return []
    start = abstract.find(quote)
    if start >= 0:
        return [(start, start + len(quote))]
    spans: list[tuple[int, int]] = []
    for piece in _QUOTE_PIECES.split(quote):
        words = piece.split()
        if not words:
            continue
        pattern = re.compile(r"\s+".join(re.escape(w) for w in words))
        match = pattern.search(abstract)
        if match:
            spans.append(match.span())
    spans.sort()
    merged: list[tuple[int, int]] = []
    for lo, hi in spans:
        if merged and (lo <= merged[-1][1] or not abstract[merged[-1][1] : lo].strip()):
            merged[-1] = (merged[-1][0], max(hi, merged[-1][1]))
        else:
            merged.append((lo, hi))
    return merged


def highlight(abstract: str, quote: str) -> tuple[str, bool]:
    """Escaped ``abstract`` with the ``quote`` sentence(s) wrapped in ``<mark>``.

    Returns the HTML and whether anything was highlighted.
    """
    spans = quote_spans(abstract, quote)
    out: list[str] = []
    last = 0
    for lo, hi in spans:
        out.append(esc(abstract[last:lo]))
        out.append(f'<mark class="sch-quote">{esc(abstract[lo:hi])}</mark>')
        last = hi
    out.append(esc(abstract[last:]))
    return "".join(out), bool(spans)


# -- cards -------------------------------------------------------------------------------------
def _links(urls: list[str]) -> str:
    out = []
    for url in urls:
        safe = safe_url(url)
        if safe is None:
            continue
        parts = urlsplit(safe)
        label = (parts.netloc + parts.path).rstrip("/")
        if parts.netloc.lower().endswith("github.com"):
            label = "code: " + parts.path.strip("/")
        out.append(
            f'<a class="sch-link" href="{esc(safe)}" target="_blank" rel="noopener noreferrer">'
            f"{esc(label)}</a>"
        )
    return " · ".join(out)


def _paper_urls(primary: str | list[str] | None, paper: Paper | None) -> list[str]:
    urls = [primary] if isinstance(primary, str) else list(primary or [])
    for url in paper.urls if paper else ():
        if url not in urls:
            urls.append(url)
    return urls


def _sources_line(paper: Paper | None, result: SearchResult | None) -> str:
    files: list[str] = list(paper.sources) if paper else []
    if not files and result is not None:
        files = meta_list(result.metadata, "sources")
    return ", ".join(files)


def citation_card(
    turn: int, citation: Citation, paper: Paper | None, result: SearchResult | None = None
) -> str:
    """The card of one cited paper: number, title, links, score and the abstract with the
    supporting sentence(s) highlighted."""
    abstract = paper.abstract if paper else ""
    body, found = highlight(abstract, citation.quote)
    if not found:
        # The quote is not in the abstract we have (or we have none): show it on its own.
        quote = (
            '<blockquote class="sch-support">'
            f'<mark class="sch-quote">{esc(citation.quote)}</mark></blockquote>'
        )
        body = quote + (f'<p class="sch-abstract">{body}</p>' if abstract else "")
    else:
        body = f'<p class="sch-abstract">{body}</p>'
    meta = [f'<span class="sch-score" title="Retrieval score">score {citation.score:.3f}</span>']
    files = _sources_line(paper, result)
    if files:
        meta.append(f'<span class="sch-file">{esc(files)}</span>')
    links = _links(_paper_urls(citation.url, paper))
    if links:
        meta.append(links)
    return (
        f'<article class="sch-card" id="{source_anchor(turn, citation.marker)}" '
        f'data-marker="{citation.marker}" data-paper="{esc(citation.paper_id)}">'
        f'<header class="sch-card-head"><span class="sch-num">[{citation.marker}]</span> '
        f'<span class="sch-title">{esc(citation.title)}</span></header>'
        f'<div class="sch-card-meta">{" · ".join(meta)}</div>{body}</article>'
    )


def closest_card(turn: int, rank: int, result: SearchResult, paper: Paper | None) -> str:
    """A card for one of the closest papers of an abstained answer (nothing highlighted)."""
    title = paper.title if paper else result.title
    abstract = paper.abstract if paper else result.text
    meta = [f'<span class="sch-score" title="Retrieval score">score {result.score:.3f}</span>']
    files = _sources_line(paper, result)
    if files:
        meta.append(f'<span class="sch-file">{esc(files)}</span>')
    links = _links(_paper_urls(meta_list(result.metadata, "urls"), paper))
    if links:
        meta.append(links)
    return (
        f'<article class="sch-card sch-card-near" id="{closest_anchor(turn, rank)}" '
        f'data-paper="{esc(result.paper_id)}">'
        f'<header class="sch-card-head"><span class="sch-num">·</span> '
        f'<span class="sch-title">{esc(title)}</span></header>'
        f'<div class="sch-card-meta">{" · ".join(meta)}</div>'
        f'<p class="sch-abstract">{esc(abstract)}</p></article>'
    )


def _result_for(answer: Answer, paper_id: str) -> SearchResult | None:
    return next((s for s in answer.sources if s.paper_id == paper_id), None)


def turn_sources(number: int, turn: Turn) -> str:
    """The cards of one turn: one per cited paper, or the closest papers when abstained."""
    answer = turn.answer
    if answer is None:
        if turn.error:
            return '<p class="sch-empty">No sources: the question could not be answered.</p>'
        return '<p class="sch-empty sch-waiting">Looking for sources…</p>'
    if answer.citations:
        cards = [
            citation_card(number, c, turn.papers.get(c.paper_id), _result_for(answer, c.paper_id))
            for c in sorted(answer.citations, key=lambda c: c.marker)
        ]
        return "".join(cards)
    if answer.sources:
        cards = [
            closest_card(number, rank, s, turn.papers.get(s.paper_id))
            for rank, s in enumerate(answer.sources[:CLOSEST_SHOWN], start=1)
        ]
        note = '<p class="sch-near-note">Closest papers (they do not answer the question):</p>'
        return note + "".join(cards)
    return '<p class="sch-empty">No paper matched.</p>'


def _short(text: str, limit: int = SHORT_QUESTION) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def sources_panel(turns: list[Turn]) -> str:
    """The sources panel: the latest turn's cards open, earlier turns' folded below."""
    if not turns:
        return (
            '<div class="sch-sources" data-turns="0"><p class="sch-empty">'
            "The papers an answer cites appear here, with the supporting sentences highlighted."
            "</p></div>"
        )
    groups = []
    for number in range(len(turns), 0, -1):
        turn = turns[number - 1]
        is_open = " open" if number == len(turns) else ""
        groups.append(
            f'<details class="sch-group" id="sch-group-{number}" data-turn="{number}"{is_open}>'
            f'<summary><span class="sch-q">Q{number}</span> {esc(_short(turn.question))}</summary>'
            f"{turn_sources(number, turn)}</details>"
        )
    return f'<div class="sch-sources" data-turns="{len(turns)}">{"".join(groups)}</div>'


# -- conversation --------------------------------------------------------------------------------
def _mode_label(mode: ModeInfo) -> str:
    """``llm:model.gguf``, ``extractive``, ``retrieval``, ``extractive (fallback)`` (no paths)."""
    return mode.label


def _timing(answer: Answer) -> str:
    parts = [esc(_mode_label(answer.mode))]
    first = answer.timings.get("first_token")
    total = answer.timings.get("total")
    if first is not None:
        parts.append(f"first token {first:.1f} s")
    if total is not None:
        parts.append(f"{total:.1f} s")
    return " · ".join(parts)


def assistant_html(number: int, turn: Turn) -> str:
    """The assistant's side of one turn: progress, draft, final answer, or error."""
    if turn.error is not None:
        return (
            f'<div class="sch-msg sch-assistant sch-failed" data-state="error">'
            f'<div class="sch-role">Scholium</div>'
            f'<div class="sch-error" role="alert">{esc(turn.error)}</div></div>'
        )
    answer = turn.answer
    if answer is None:
        status = esc(turn.status or "working")
        draft = (
            f'<div class="sch-draft" aria-live="polite">{paragraphs(turn.draft)}</div>'
            '<div class="sch-draft-note">Draft: citations are checked when it is complete.</div>'
            if turn.draft.strip()
            else ""
        )
        return (
            f'<div class="sch-msg sch-assistant sch-pending" data-state="pending">'
            f'<div class="sch-role">Scholium</div>'
            f'<div class="sch-status" role="status"><span class="sch-spinner" aria-hidden="true"></span>'
            f"{status[:1].upper() + status[1:]}…</div>{draft}</div>"
        )
    parts = []
    if answer.translated_note:
        parts.append(f'<div class="sch-how" data-translated="true">{esc(answer.translated_note)}</div>')
    if answer.corrected_note:
        parts.append(f'<div class="sch-how" data-corrected="true">{esc(answer.corrected_note)}</div>')
    if answer.notice:
        parts.append(
            f'<div class="sch-notice" role="status"><strong>Note:</strong> {esc(answer.notice)}</div>'
        )
    explanation = answer.mode.explanation
    if explanation and not answer.abstained and answer.mode.fallback_reason != "llm_unavailable":
        # How this answer was made when it is not the model's own text (the notice covers an
        # unavailable model), e.g. "Answered quoted from the sources' sentences because ...".
        generator = esc(answer.mode.generator)
        parts.append(f'<div class="sch-how" data-generator="{generator}">{esc(explanation)}</div>')
    badge = state_badge(answer)
    if badge:
        parts.append(f'<div class="sch-badge sch-badge-{badge[0]}">{esc(badge[1])}</div>')
    known = {c.marker for c in answer.citations}
    parts.append(f'<div class="sch-answer">{answer_body(answer.text, number, known)}</div>')
    if answer.abstained and answer.sources:
        items = "".join(
            f'<li><a href="#{closest_anchor(number, rank)}">{esc(s.title)}</a></li>'
            for rank, s in enumerate(answer.sources[:CLOSEST_SHOWN], start=1)
        )
        parts.append(f'<div class="sch-closest"><span>Closest papers:</span><ul>{items}</ul></div>')
    if answer.flagged:
        removed = "".join(f"<li>{esc(s)}</li>" for s in answer.flagged)
        count = len(answer.flagged)
        parts.append(
            f'<details class="sch-flagged"><summary>{count} unsupported sentence{"s" if count != 1 else ""} '
            f"removed</summary><ul>{removed}</ul></details>"
        )
    parts.append(f'<div class="sch-meta">{_timing(answer)}</div>')
    state = "abstained" if answer.abstained else "answered"
    classes = "sch-msg sch-assistant" + (" sch-abstained" if answer.abstained else "")
    return (
        f'<div class="{classes}" data-state="{state}">'
        f'<div class="sch-role">Scholium</div>{"".join(parts)}</div>'
    )


def header(summary: CollectionSummary | None = None) -> str:
    """The page title with what is loaded ("Answers about 260 papers from 3 files: …")."""
    what = summary.describe() if summary is not None else "the papers of your collection"
    return f"<h1>Scholium</h1><p>Answers about {esc(what)}, citing the exact sentences.</p>"


def transcript(turns: list[Turn]) -> str:
    """The whole conversation as HTML (an introduction when it is empty)."""
    if not turns:
        return (
            '<div class="sch-transcript sch-intro" data-turns="0">'
            "<h2>Ask about the papers</h2>"
            "<p>Scholium answers from the paper abstracts of this collection. Every sentence of an answer "
            'cites the papers that support it: click a marker like <span class="sch-cite-demo">[1]</span> '
            "to see the highlighted sentence in the abstract. When the abstracts do not answer a question, "
            "Scholium says so and shows the closest papers.</p></div>"
        )
    items = []
    for number, turn in enumerate(turns, start=1):
        items.append(
            f'<div class="sch-turn" id="sch-turn-{number}" data-turn="{number}">'
            f'<div class="sch-msg sch-user"><div class="sch-role">You</div>'
            f'<div class="sch-question">{paragraphs(turn.question)}</div></div>'
            f"{assistant_html(number, turn)}</div>"
        )
    return f'<div class="sch-transcript" data-turns="{len(turns)}">{"".join(items)}</div>'


def history(turns: list[Turn]) -> list[dict[str, str]]:
    """The finished turns as OpenAI-style messages (the ``history`` the Assistant takes)."""
    messages: list[dict[str, str]] = []
    for turn in turns:
        if turn.answer is None:
            continue
        messages.append({"role": "user", "content": turn.question})
        messages.append({"role": "assistant", "content": turn.answer.text})
    return messages


def papers_to_fetch(answer: Answer) -> list[str]:
    """Ids of the papers whose abstracts the sources panel shows for ``answer``."""
    if answer.citations:
        ids = [c.paper_id for c in answer.citations]
    else:
        ids = [s.paper_id for s in answer.sources[:CLOSEST_SHOWN]]
    return list(dict.fromkeys(ids))


# -- plain text -----------------------------------------------------------------------------------
def copy_text(answer: Answer | None, papers: dict[str, Paper] | None = None) -> str:
    """The answer as plain text followed by its numbered reference list (for the clipboard)."""
    if answer is None:
        return ""
    papers = papers or {}
    lines = [answer.text.strip()]
    if answer.notice:
        lines += ["", f"Note: {answer.notice}"]
    if answer.citations:
        lines += ["", "References:"]
        for c in sorted(answer.citations, key=lambda c: c.marker):
            urls = [u for u in map(safe_url, _paper_urls(c.url, papers.get(c.paper_id))) if u]
            link = f" {urls[0]}" if urls else ""
            lines.append(f"[{c.marker}] {c.title}.{link}")
            lines.append(f'    "{" ".join(c.quote.split())}"')
    elif answer.abstained and answer.sources:
        lines += ["", "Closest papers:"]
        lines += [f"- {s.title}" for s in answer.sources[:CLOSEST_SHOWN]]
    return "\n".join(lines)


def alert(message: str | None) -> str:
    """An error line under the question box (empty when there is nothing to say)."""
    if not message:
        return '<div class="sch-alert-empty"></div>'
    text = message[:1].upper() + message[1:]
    return f'<div class="sch-alert" role="alert">{esc(text)}</div>'
