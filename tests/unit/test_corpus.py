"""The corpus readers on the real listing pages and on broken inputs."""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from rag.corpus import load_corpus, normalize_title, paper_id, read_jsonl, read_listing
from rag.corpus.listing import is_chrome
from rag.types import Paper, ParseWarning

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "data" / "corpus"
ABSTRACT = ("We study a problem in depth and propose a method that works. " * 6).strip()


def test_real_corpus_has_260_distinct_papers() -> None:
    corpus = load_corpus([CORPUS])
    assert len(corpus.papers) == 260
    assert corpus.warnings == []
    assert len({p.id for p in corpus.papers}) == 260
    multi = [p for p in corpus.papers if len(p.sources) > 1]
    assert len(multi) == 14  # 15 repeated listings: 13 papers in two files, 1 in three
    assert sum(len(p.sources) for p in corpus.papers) == 275


def test_page_chrome_is_stripped() -> None:
    papers = load_corpus([CORPUS]).papers
    titles = {p.title for p in papers}
    for chrome in ("Subscribe", "Daily Papers", "new", "Mar 13", "by AK and the research community"):
        assert chrome not in titles
    assert not any(t.startswith("Subscribe") or "trending papers" in t for t in titles)
    # "Subscribe" glued to the first title of one file
    first = read_listing(CORPUS / "000_c9cfa8ee2862baf0.txt")[0]
    assert first.title.startswith("End-to-End Complex-Valued Multidilated")


def test_papers_sharing_a_prefix_stay_distinct() -> None:
    uniformer = [p for p in load_corpus([CORPUS]).papers if p.title.startswith("UniFormer:")]
    assert len(uniformer) == 2
    assert uniformer[0].id != uniformer[1].id


def test_ids_depend_on_content_not_position(tmp_path: Path) -> None:
    papers = read_listing(CORPUS / "001_6d08c3e38cdaa7e2.txt")
    reordered = tmp_path / "r.txt"
    reordered.write_text("\n".join(f"{p.title}\n{p.abstract}" for p in reversed(papers)))
    again = read_listing(reordered)
    assert {p.id for p in again} == {p.id for p in papers}
    assert paper_id("Mix-LN: Unleashing") == paper_id("  mix-ln  unleashing!")
    assert normalize_title("Café—Net") == "cafe net"


def test_code_urls_are_found() -> None:
    papers = load_corpus([CORPUS]).papers
    with_urls = [p for p in papers if p.urls]
    assert len(with_urls) >= 20
    assert all(u.startswith("http") and not u.endswith((".", ",", ")")) for p in with_urls for u in p.urls)
    lejepa = next(p for p in papers if p.title.startswith("LeJEPA"))
    assert lejepa.urls == ("https://github.com/rbalestr-lab/lejepa",)


def test_chrome_detection() -> None:
    assert is_chrome("Mar 13") and is_chrome("Sep 3, 2024") and is_chrome("byAK and the research community")
    assert not is_chrome("Mar: a model") and not is_chrome("Subscribers of neural nets")


def _warnings_for(path: Path) -> tuple[list[Paper], list[ParseWarning]]:
    warnings: list[ParseWarning] = []
    return read_listing(path, warnings=warnings), warnings


def test_title_without_abstract_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "odd.txt"
    path.write_text(f"Paper One\n{ABSTRACT}\nOrphan Title\nPaper Two\n{ABSTRACT} Two.\nDangling\n")
    papers, warnings = _warnings_for(path)
    assert [p.title for p in papers] == ["Paper One", "Paper Two"]
    assert [(w.line, "no abstract" in w.message) for w in warnings] == [(3, True), (6, True)]
    assert all(w.path == "odd.txt" for w in warnings)


def test_abstract_looking_title_and_missing_title(tmp_path: Path) -> None:
    path = tmp_path / "bad.txt"
    path.write_text(f"{ABSTRACT}\nGood Title\n{ABSTRACT}\n")
    papers, warnings = _warnings_for(path)
    assert [p.title for p in papers] == ["Good Title"]
    assert warnings[0].line == 1 and "without a title" in warnings[0].message


def test_bad_encoding_is_reported_and_rest_ingests(tmp_path: Path) -> None:
    path = tmp_path / "enc.txt"
    path.write_bytes(b"Caf\xe9 Networks\n" + ABSTRACT.encode() + b"\nPaper Two\n" + ABSTRACT.encode() + b"\n")
    papers, warnings = _warnings_for(path)
    assert len(papers) == 2
    assert warnings[0].line == 1 and "UTF-8" in warnings[0].message
    assert papers[0].title == "Café Networks"  # a Latin-1/CP1252 line is decoded as such
    # A line mixing valid UTF-8 with a broken byte keeps the UTF-8 and marks the broken byte.
    path.write_bytes(b"Caf\xc3\xa9 \xe9 Net\n" + ABSTRACT.encode())
    papers, warnings = _warnings_for(path)
    assert papers[0].title == "Café \ufffd Net" and "replaced" in warnings[0].message


def test_huge_line_is_skipped_without_losing_the_rest(tmp_path: Path) -> None:
    path = tmp_path / "huge.txt"
    with path.open("w") as f:
        f.write(f"Paper One\n{ABSTRACT}\nHuge\n")
        f.write("x" * 50_000_000 + "\n")
        f.write(f"Paper Two\n{ABSTRACT}\n")
    papers, warnings = _warnings_for(path)
    assert [p.title for p in papers] == ["Paper One", "Paper Two"]
    assert any(w.line == 4 and "too long" in w.message for w in warnings)


def test_jsonl_reader(tmp_path: Path) -> None:
    path = tmp_path / "arxiv.jsonl"
    good = {
        "id": "2401.00001",
        "title": "A Good Paper",
        "abstract": ABSTRACT,
        "authors": "A. B",
        "categories": "cs.LG stat.ML",
        "update_date": "2024-01-02",
    }
    lines = [
        json.dumps(good),
        json.dumps({"id": "2", "title": "No abstract"}),
        "{not json",
        json.dumps({"id": "3", "title": 5, "abstract": ABSTRACT}),
        json.dumps([1, 2]),
        "",
        json.dumps({**good, "id": "2401.00002", "title": "Second Paper"}),
    ]
    path.write_text("\n".join(lines) + "\n")
    warnings: list[ParseWarning] = []
    papers = read_jsonl(path, warnings=warnings)
    assert [p.title for p in papers] == ["A Good Paper", "Second Paper"]
    assert papers[0].categories == ("cs.LG", "stat.ML") and papers[0].date == "2024-01-02"
    assert papers[0].arxiv_id == "2401.00001"
    assert [w.line for w in warnings] == [2, 3, 4, 5]


def test_same_paper_in_two_formats_is_merged(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text(f"Shared Paper\n{ABSTRACT}\n")
    (tmp_path / "b.jsonl").write_text(
        json.dumps({"id": "1", "title": "Shared paper", "abstract": ABSTRACT, "categories": "cs.CL"}) + "\n"
    )
    corpus = load_corpus([tmp_path])
    assert len(corpus.papers) == 1
    assert corpus.papers[0].sources == ("a.txt", "b.jsonl")
    assert corpus.papers[0].categories == ("cs.CL",)


def test_missing_path_and_unknown_format(tmp_path: Path) -> None:
    import pytest

    with pytest.raises(FileNotFoundError):
        load_corpus([tmp_path / "nope"])
    (tmp_path / "x.xlsx").write_text("a,b")
    with pytest.raises(ValueError, match="unknown corpus format"):
        load_corpus([tmp_path / "x.xlsx"])


@settings(max_examples=150, deadline=None)
@given(st.lists(st.text(max_size=400), max_size=30))
def test_listing_parser_never_crashes(tmp_path_factory: object, lines: list[str]) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "fuzz.txt"
        path.write_bytes("\n".join(lines).encode("utf-8", errors="surrogatepass"))
        papers = read_listing(path, warnings=[])
        for paper in papers:
            assert paper.title.strip() and paper.abstract.strip()
            assert paper.id == paper_id(paper.title)
