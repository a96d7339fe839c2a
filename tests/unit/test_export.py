"""Answers with references out (rag/export.py): Markdown, BibTeX, CSL-JSON."""

from __future__ import annotations

import json
import re

import bibtexparser
from bibtexparser.middlewares import LatexDecodingMiddleware

from rag.export import answer_bibtex, arxiv_id, bibtex_key
from rag.types import Answer, Citation

CITES = [
    Citation(
        marker=1,
        paper_id="2412.13795",
        title="Mix-LN: Unleashing the Power of Deeper Layers by Combining Pre-LN & Post-LN",
        quote="We introduce Mix-LN, a novel normalization technique.",
        score=0.9,
        url="https://github.com/pixeli99/MixLN",
        authors="Pengxiang Li and Lu Yin and Shiwei Liu",
        year=2024,
        urls=("https://github.com/pixeli99/MixLN", "https://arxiv.org/abs/2412.13795v2"),
    ),
    Citation(
        marker=2,
        paper_id="d3net_aec_7f3a",
        title="Échos {and} noise: 100% of_the $cost$ #1",
        quote="A very small network of only 354K parameters.",
        score=0.5,
        authors="Karn N. Watcharasupat and Müller, Jörg",
        year=None,
    ),
]
ANSWER = Answer(
    question="What does Mix-LN propose, and how small is the AEC network?",
    text="Mix-LN combines Pre-LN and Post-LN [1]. The AEC network has 354K parameters [2].",
    citations=CITES,
)


def test_markdown_reference_list_is_numbered_like_the_markers() -> None:
    md = ANSWER.to_markdown()
    body, _, refs = md.partition("## References")
    assert sorted(set(map(int, re.findall(r"\[(\d+)\]", body)))) == [c.marker for c in CITES]
    listed = [int(n) for n in re.findall(r"(?m)^\[(\d+)\] ", refs)]
    assert listed == [c.marker for c in CITES]
    assert (
        "arXiv:2412.13795" in refs and "> We introduce Mix-LN" in refs and "(2024, arXiv:2412.13795)" in refs
    )


def test_bibtex_parses_back_with_every_field() -> None:
    text = ANSWER.to_bibtex()
    library = bibtexparser.parse_string(text, append_middleware=[LatexDecodingMiddleware()])
    assert not library.failed_blocks
    entries = library.entries
    assert [e.key for e in entries] == [bibtex_key(c) for c in CITES]
    assert len({e.key for e in entries}) == len(entries)
    first, second = (e.fields_dict for e in entries)
    assert first["title"].value.strip("{}") == CITES[0].title
    assert first["eprint"].value == "2412.13795" and first["year"].value == "2024"
    assert second["title"].value.strip("{}") == CITES[1].title  # braces, %, $, #, _ escaped and back
    assert second["author"].value == CITES[1].authors
    assert "year" not in second


def test_keys_are_stable_and_readable() -> None:
    assert bibtex_key(CITES[0]).startswith("li2024") and bibtex_key(CITES[0]) == bibtex_key(CITES[0])
    assert bibtex_key(CITES[1]).startswith("watcharasupat")
    untitled = Citation(3, "x1", "On the Curse of Depth", "q", 0.1)
    assert bibtex_key(untitled) == "curse" + "x1"
    assert arxiv_id(CITES[0]) == "2412.13795"  # read from the arxiv.org URL


def test_csl_json_matches_the_citations() -> None:
    items = json.loads(json.dumps(ANSWER.to_csl_json()))
    assert [i["id"] for i in items] == [bibtex_key(c) for c in CITES]
    assert items[0]["issued"] == {"date-parts": [[2024]]} and items[0]["URL"] == CITES[0].url
    assert items[1]["author"][0] == {"literal": "Karn N. Watcharasupat"}


def test_an_abstention_exports_no_references() -> None:
    empty = Answer(question="q", text="The corpus does not answer this question.", abstained=True)
    assert answer_bibtex(empty) == "" and empty.to_csl_json() == []
    assert "## References" not in empty.to_markdown()
