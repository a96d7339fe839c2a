"""Answers with references out: Markdown with a reference list, BibTeX, CSL-JSON.

Every export is numbered from ``Answer.citations``, the same list the ``[n]`` markers of the
answer text resolve to, so a reference list can never disagree with the text.
"""

from __future__ import annotations

import re
import unicodedata
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .types import Answer, Citation

#: ``scholium ask --format``: how an answer can be printed.
ANSWER_FORMATS = ("text", "json", "markdown", "bibtex", "csl-json")
# Characters with a meaning in BibTeX/LaTeX, escaped inside a braced field value.
_BIBTEX_SPECIAL = {"\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "&": r"\&", "%": r"\%",
                   "$": r"\$", "#": r"\#", "_": r"\_", "~": r"\textasciitilde{}", "^": r"\^{}"}  # fmt: skip
_STOP = frozenset(
    {"a", "an", "the", "on", "of", "for", "in", "to", "and", "with", "is", "are", "via", "from"}
)


def arxiv_id(citation: Citation) -> str | None:
    """The paper's arXiv id: stored, else read from an arxiv.org URL."""
    from .corpus.records import arxiv_from  # the readers' parser (imported when exporting)

    if citation.arxiv_id:
        return citation.arxiv_id
    return next(filter(None, map(arxiv_from, (citation.url, *citation.urls))), None)


def _urls(citation: Citation) -> list[str]:
    return list(dict.fromkeys(u for u in (citation.url, *citation.urls) if u))


def _ascii_word(text: str) -> str:
    return re.sub(
        r"[^a-z0-9]", "", unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    )


def _people(authors: str | None) -> list[str]:
    """The names in an author string ("A B, C D" or "A B and C D")."""
    return [name.strip() for name in re.split(r",| and ", authors or "") if name.strip()]


def bibtex_key(citation: Citation) -> str:
    """A stable key: first author's surname (else the title's first content word), the year, and
    four characters of the paper id — e.g. ``mixln2024a1b2``. The same paper always gets the
    same key, in every answer."""
    people = _people(citation.authors)
    head = _ascii_word(people[0].split()[-1]) if people else ""
    if not head:
        words = [w for w in re.findall(r"[\w\-]+", citation.title) if w.lower() not in _STOP]
        head = _ascii_word(words[0]) if words else ""
    suffix = _ascii_word(citation.paper_id)[-4:]
    return f"{head or 'paper'}{citation.year or ''}{suffix}"


def _bibtex_value(text: str) -> str:
    return "".join(_BIBTEX_SPECIAL.get(c, c) for c in " ".join(text.split()))


def citation_bibtex(citation: Citation) -> str:
    """One ``@misc`` entry (an abstract listing does not say where a paper was published)."""
    fields: list[tuple[str, str]] = [("title", "{" + _bibtex_value(citation.title) + "}")]
    if citation.authors:
        fields.append(("author", _bibtex_value(citation.authors)))
    if citation.year:
        fields.append(("year", str(citation.year)))
    eprint = arxiv_id(citation)
    if eprint:
        fields += [("eprint", eprint), ("archiveprefix", "arXiv")]
    urls = _urls(citation)
    if urls:
        fields.append(("url", urls[0]))
    fields.append(("note", f"Scholium paper id {_bibtex_value(citation.paper_id)}"))
    body = ",\n".join(f"  {name} = {{{value}}}" for name, value in fields)
    return f"@misc{{{bibtex_key(citation)},\n{body}\n}}\n"


def answer_bibtex(answer: Answer) -> str:
    """The cited papers as BibTeX, in marker order (a paper cited once appears once)."""
    return "\n".join(citation_bibtex(c) for c in answer.citations)


def citation_csl(citation: Citation) -> dict[str, Any]:
    """One CSL-JSON item."""
    item: dict[str, Any] = {"id": bibtex_key(citation), "type": "article", "title": citation.title}
    if citation.authors:
        item["author"] = [{"literal": name} for name in _people(citation.authors)]
    if citation.year:
        item["issued"] = {"date-parts": [[citation.year]]}
    eprint = arxiv_id(citation)
    if eprint:
        item["number"] = f"arXiv:{eprint}"
        item["publisher"] = "arXiv"
    urls = _urls(citation)
    if urls:
        item["URL"] = urls[0]
    return item


def answer_csl_json(answer: Answer) -> list[dict[str, Any]]:
    """The cited papers as CSL-JSON items, in marker order."""
    return [citation_csl(c) for c in answer.citations]


def answer_markdown(answer: Answer) -> str:
    """The answer text (markers kept) and a ``## References`` list numbered like the markers."""
    parts = [f"**Q:** {answer.question}", "", answer.text]
    if answer.notice:
        parts += ["", f"> Note: {answer.notice}"]
    if answer.citations:
        parts += ["", "## References", ""]
        for c in answer.citations:
            details = [str(c.year)] if c.year else []
            eprint = arxiv_id(c)
            if eprint:
                details.append(f"arXiv:{eprint}")
            urls = _urls(c)
            line = f"[{c.marker}] {c.authors + '. ' if c.authors else ''}*{c.title}*"
            line += f" ({', '.join(details)})" if details else ""
            line += f". <{urls[0]}>" if urls else "."
            parts += [line, f"    > {c.quote}", ""]
    elif answer.abstained and answer.sources:
        parts += ["", "Closest papers: " + "; ".join(f"*{s.title}*" for s in answer.sources[:3])]
    return "\n".join(parts).rstrip() + "\n"
