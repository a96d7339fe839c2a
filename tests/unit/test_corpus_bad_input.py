"""Corpus files that are broken, hostile or odd: binary data, other encodings, truncation,
duplicates, enormous files, JSONL records with missing fields or wrong types, and paths.

The contract: nothing raises for a problem inside a file; every problem is a warning with the
file name and line number (0 for the whole file); every good record is still loaded; and only
what the user passes is read.
"""

from __future__ import annotations

import codecs
import hashlib
import json
import os
import random
import time
from pathlib import Path

import pytest

from rag.corpus import MAX_WARNINGS_PER_FILE, load_corpus, read_jsonl, read_listing
from rag.corpus.text import MAX_TITLE_CHARS
from rag.index.chunking import Chunker
from rag.settings import ChunkSettings
from rag.types import Paper, ParseWarning

ABSTRACT = ("We study a problem in depth and propose a method that works on many benchmarks. " * 5).strip()
GOOD = {"id": "2401.00001", "title": "A Good Paper", "abstract": ABSTRACT, "categories": "cs.LG"}
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10\x00\x00\x00\x10\x08\x06\x00\x00\x00"


def listing(*titles: str) -> str:
    return "".join(f"{t}\n{ABSTRACT} About {t}.\n" for t in titles)


def jsonl(*records: object) -> str:
    """JSON Lines; a record made from GOOD with another title gets its own arXiv id (papers with
    the same arXiv id are one paper and would be merged)."""
    out = []
    for r in records:
        if isinstance(r, dict) and r.get("id") == GOOD["id"] and r.get("title") != GOOD["title"]:
            title = str(r.get("title")).encode()
            r = {**r, "id": f"{GOOD['id']}-{hashlib.sha1(title).hexdigest()[:12]}"}
        out.append((r if isinstance(r, str) else json.dumps(r)) + "\n")
    return "".join(out)


def _load(*paths: Path) -> tuple[list[str], list[ParseWarning]]:
    corpus = load_corpus(list(paths))
    return sorted(p.title for p in corpus.papers), corpus.warnings


# -- binary and encodings ----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("random.txt", random.Random(1).randbytes(200_000)),
        ("image.txt", PNG + random.Random(2).randbytes(5_000)),
        ("random.jsonl", random.Random(3).randbytes(50_000)),
        ("high-bytes.txt", bytes(random.Random(4).randrange(0x80, 0x100) for _ in range(20_000))),
        ("control.jsonl", bytes(random.Random(5).randrange(1, 0x20) for _ in range(20_000))),
    ],
)
def test_binary_file_is_skipped_whole_and_the_good_file_still_loads(
    tmp_path: Path, name: str, data: bytes
) -> None:
    (tmp_path / name).write_bytes(data)
    (tmp_path / "good.txt").write_text(listing("Paper One", "Paper Two"))
    titles, warnings = _load(tmp_path)
    assert titles == ["Paper One", "Paper Two"]  # no garbage "papers" from the binary file
    mine = [w for w in warnings if w.path == name]
    assert mine and all(w.line == 0 for w in mine)
    assert "binary" in mine[0].message
    assert len(warnings) <= 3  # one report for the file, not one per garbage line


def test_latin1_file_is_decoded_and_every_line_reported(tmp_path: Path) -> None:
    path = tmp_path / "latin1.txt"
    path.write_bytes(listing("Réseaux de neurones", "Plain Title", "Über Netze").encode("latin-1"))
    titles, warnings = _load(path)
    assert titles == ["Plain Title", "Réseaux de neurones", "Über Netze"]
    assert [(w.path, w.line) for w in warnings] == [("latin1.txt", n) for n in (1, 2, 5, 6)]
    assert all("Windows-1252" in w.message for w in warnings)


@pytest.mark.parametrize(
    "encoding", ["utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-8-sig"], ids=lambda e: e
)
def test_utf16_utf32_and_bom_files_are_read(tmp_path: Path, encoding: str) -> None:
    text = listing("Réseaux de neurones", "Plain Title")
    (tmp_path / "wide.txt").write_bytes(text.encode(encoding))
    records = jsonl({**GOOD, "title": "Première"}, {**GOOD, "title": "Second"})
    (tmp_path / "wide.jsonl").write_bytes(records.encode(encoding))
    titles, warnings = _load(tmp_path)
    assert titles == ["Plain Title", "Première", "Réseaux de neurones", "Second"]
    assert warnings == []


def test_utf8_bom_no_longer_loses_the_first_jsonl_record(tmp_path: Path) -> None:
    path = tmp_path / "bom.jsonl"
    path.write_bytes(codecs.BOM_UTF8 + jsonl(GOOD, {**GOOD, "title": "Second"}).encode())
    assert [p.title for p in read_jsonl(path, warnings=[])] == ["A Good Paper", "Second"]


def test_broken_utf16_is_reported_per_line(tmp_path: Path) -> None:
    data = listing("Paper One").encode("utf-16-le")
    data += "Broken ".encode("utf-16-le") + b"\x00\xd8" + "Title\n".encode("utf-16-le")  # lone surrogate
    data += f"{ABSTRACT}\n".encode("utf-16-le")
    path = tmp_path / "broken16.txt"
    path.write_bytes(codecs.BOM_UTF16_LE + data)
    warnings: list[ParseWarning] = []
    papers = read_listing(path, warnings=warnings)
    assert [p.title for p in papers] == ["Paper One", "Broken \ufffdTitle"]
    assert [(w.line, "UTF-16" in w.message) for w in warnings] == [(3, True)]


# -- truncation and duplicates -----------------------------------------------------------------
def test_truncated_listing_keeps_complete_papers_and_reports_the_cut_one(tmp_path: Path) -> None:
    text = listing("Paper One", "Paper Two")
    path = tmp_path / "cut.txt"
    path.write_text(text[: text.index("Paper Two") + 60])  # cut early in the second abstract
    warnings: list[ParseWarning] = []
    papers = read_listing(path, warnings=warnings)
    assert [p.title for p in papers] == ["Paper One"]
    # "Paper Two" lost its abstract; the stub left of it looks like a title without one.
    assert [(w.line, "no abstract" in w.message) for w in warnings] == [(3, True), (4, True)]


def test_truncated_jsonl_and_a_cut_multibyte_character(tmp_path: Path) -> None:
    text = jsonl(GOOD, {**GOOD, "title": "Second Paper — ünïcode"}).encode()
    path = tmp_path / "cut.jsonl"
    path.write_bytes(text[: len(text) - 40])  # mid-JSON
    warnings: list[ParseWarning] = []
    assert [p.title for p in read_jsonl(path, warnings=warnings)] == ["A Good Paper"]
    assert [(w.path, w.line) for w in warnings] == [("cut.jsonl", 2)]
    assert "invalid JSON" in warnings[0].message
    cut = listing("Paper One", "Ünïcödé Title").encode()
    path = tmp_path / "cut.txt"
    path.write_bytes(cut[: cut.index("Ünïcödé".encode()) + 4])  # inside "ï"
    warnings = []
    assert [p.title for p in read_listing(path, warnings=warnings)] == ["Paper One"]
    assert [w.line for w in warnings] == [3, 3]  # invalid UTF-8, then "no abstract"


def test_duplicated_files_and_records(tmp_path: Path) -> None:
    a = tmp_path / "a.txt"
    a.write_text(listing("Paper One", "Paper Two", "Paper One"))  # a record repeated in the file
    (tmp_path / "copy.txt").write_bytes(a.read_bytes())  # the same file under another name
    corpus = load_corpus([tmp_path, a, tmp_path / "." / "a.txt"])  # and passed three times
    assert sorted(p.title for p in corpus.papers) == ["Paper One", "Paper Two"]
    assert all(p.sources == ("a.txt", "copy.txt") for p in corpus.papers)
    assert corpus.files == [str(a), str(tmp_path / "copy.txt")]
    assert [(w.path, w.line) for w in corpus.warnings] == [("a.txt", 0), ("a.txt", 0)]
    assert all("read once" in w.message for w in corpus.warnings)


def test_same_title_with_another_abstract_keeps_the_longer_and_says_so(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text(f"Paper One\n{ABSTRACT}\n")
    (tmp_path / "b.txt").write_text(f"Paper One\n{ABSTRACT} And a longer ending here.\n")
    corpus = load_corpus([tmp_path])
    assert len(corpus.papers) == 1 and corpus.papers[0].abstract.endswith("longer ending here.")
    assert [w.path for w in corpus.warnings] == ["b.txt"] and "longer" in corpus.warnings[0].message


# -- enormous files ------------------------------------------------------------------------------
def test_enormous_files_load_in_bounded_time(tmp_path: Path) -> None:
    """50 MB of listing (70,000 papers) plus a 30 MB JSONL with one 20 MB line."""
    big = tmp_path / "big.txt"
    with big.open("w") as out:
        size = n = 0
        while size < 50_000_000:
            block = f"Paper number {n}\n{ABSTRACT} Variant {n}.\n"
            out.write(block)
            size += len(block)
            n += 1
    huge = tmp_path / "huge.jsonl"
    with huge.open("w") as out:
        out.write(jsonl(GOOD))
        out.write('{"title": "Huge", "abstract": "' + "x" * 20_000_000 + '"}\n')
        for i in range(10_000):
            out.write(jsonl({**GOOD, "title": f"Record {i}", "abstract": f"{ABSTRACT} {'y' * 900}"}))
    clock = time.perf_counter()
    corpus = load_corpus([big, huge])
    seconds = time.perf_counter() - clock
    assert len(corpus.papers) == n + 1 + 10_000
    assert [(w.path, w.line) for w in corpus.warnings] == [("huge.jsonl", 2)]
    assert "too long" in corpus.warnings[0].message
    assert seconds < 60, f"{seconds:.1f} s"


def test_warnings_are_capped_per_file(tmp_path: Path) -> None:
    path = tmp_path / "noisy.jsonl"
    path.write_text(jsonl(GOOD, *(["{broken"] * 5_000), {**GOOD, "title": "Last Paper"}))
    corpus = load_corpus([path])
    assert sorted(p.title for p in corpus.papers) == ["A Good Paper", "Last Paper"]
    assert len(corpus.warnings) == MAX_WARNINGS_PER_FILE + 1
    assert [w.line for w in corpus.warnings[:3]] == [2, 3, 4]
    assert corpus.warnings[-1].line == 0 and "4,900 more warnings" in corpus.warnings[-1].message


# -- JSONL records -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("record", "reason"),
    [
        ({"id": "1", "abstract": ABSTRACT}, "missing or null 'title'"),
        ({"id": "1", "title": None, "abstract": ABSTRACT}, "missing or null 'title'"),
        ({"id": "1", "title": "No abstract"}, "missing or null 'abstract'"),
        ({"id": "1", "title": "Null abstract", "abstract": None}, "missing or null 'abstract'"),
        ({"title": 42, "abstract": ABSTRACT}, "'title' should be a string, got int"),
        ({"title": True, "abstract": ABSTRACT}, "'title' should be a string, got bool"),
        ({"title": ["A", "List"], "abstract": ABSTRACT}, "'title' should be a string, got list"),
        ({"title": "List abstract", "abstract": ["a", "b"]}, "'abstract' should be a string, got list"),
        ({"title": "Dict", "abstract": {"text": ABSTRACT}}, "'abstract' should be a string, got dict"),
        ({"title": "   \t ", "abstract": ABSTRACT}, "empty 'title'"),
        ({"title": "Empty abstract", "abstract": ""}, "empty 'abstract'"),
        ({"title": "?!—", "abstract": ABSTRACT}, "no letters or digits"),
        ({"title": "T" * (MAX_TITLE_CHARS + 1), "abstract": ABSTRACT}, "too long"),
        ({"title": " ".join(["word"] * 200), "abstract": ABSTRACT}, "too long"),
        ([GOOD], "expected a JSON object, got list"),
        ("just a string", "expected a JSON object, got str"),
        (42, "expected a JSON object, got int"),
        (None, "expected a JSON object, got NoneType"),
        ("{not json", "invalid JSON"),
        ('{"title": "Trailing", "abstract": "x"} garbage', "invalid JSON"),
        ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
        ('{"title": ' + "1" * 5_000 + "}", "invalid JSON"),
    ],
    ids=lambda v: v if isinstance(v, str) and len(v) < 40 else None,
)
def test_unusable_jsonl_record_is_reported_with_its_line(tmp_path: Path, record: object, reason: str) -> None:
    path = tmp_path / "bad.jsonl"
    line = record if isinstance(record, str) and not record.startswith("just") else json.dumps(record)
    path.write_text(jsonl(GOOD, line, {**GOOD, "title": "After"}))
    warnings: list[ParseWarning] = []
    papers = read_jsonl(path, warnings=warnings)
    assert [p.title for p in papers] == ["A Good Paper", "After"]
    assert [(w.path, w.line) for w in warnings] == [("bad.jsonl", 2)]
    assert reason in warnings[0].message


@pytest.mark.parametrize(
    ("extra", "expected", "dropped"),
    [
        ({"categories": ["cs.LG", "stat.ML"]}, {"categories": ("cs.LG", "stat.ML")}, None),
        ({"categories": 7}, {"categories": ()}, "'categories' (int)"),
        ({"categories": [1, 2]}, {"categories": ()}, "'categories' (list)"),
        ({"id": {"arxiv": "2401.1"}}, {"arxiv_id": None}, "'id' (dict)"),
        ({"id": 1234}, {"arxiv_id": "1234"}, None),
        ({"id": False}, {"arxiv_id": None}, "'id' (bool)"),
        ({"id": None, "authors": None, "categories": None}, {"arxiv_id": None, "authors": None}, None),
        ({"authors": ["A. B", "C. D"]}, {"authors": "A. B, C. D"}, None),
        ({"authors": {"a": 1}, "update_date": 20240102}, {"authors": None, "date": None}, "'authors' (dict)"),
        ({"unknown": [1, {"x": None}]}, {}, None),
    ],
)
def test_optional_field_of_the_wrong_type_is_dropped_and_the_record_kept(
    tmp_path: Path, extra: dict[str, object], expected: dict[str, object], dropped: str | None
) -> None:
    path = tmp_path / "types.jsonl"
    path.write_text(jsonl({**GOOD, **extra}))
    warnings: list[ParseWarning] = []
    [paper] = read_jsonl(path, warnings=warnings)
    assert paper.title == "A Good Paper"
    for key, value in expected.items():
        assert getattr(paper, key) == value
    if dropped is None:
        assert warnings == []
    else:
        assert [(w.path, w.line) for w in warnings] == [("types.jsonl", 1)] and dropped in warnings[0].message


def test_lone_surrogates_and_control_characters_do_not_break_ids_or_hashes(tmp_path: Path) -> None:
    path = tmp_path / "odd.jsonl"
    path.write_text('{"title": "Odd \\ud800 Title\\u0000", "abstract": "' + ABSTRACT + '\\udfff\\u0007"}\n')
    [paper] = read_jsonl(path, warnings=[])
    assert paper.title == "Odd \ufffd Title" and paper.abstract.endswith("\ufffd")
    assert len(paper.content_hash) == 16 and paper.to_dict()["title"] == paper.title


def test_listing_title_too_long_for_a_chunk_is_skipped(tmp_path: Path) -> None:
    path = tmp_path / "dense.txt"
    path.write_text(listing("a🧪" * 60, "Fine Title", "----"))  # 120 chars but ~200 tokens; no letters
    warnings: list[ParseWarning] = []
    papers = read_listing(path, warnings=warnings)
    assert [p.title for p in papers] == ["Fine Title"]
    assert [(w.line, m in w.message) for w, m in zip(warnings, ["tokens", "no letters"], strict=True)] == [
        (1, True),
        (5, True),
    ]


def test_whatever_the_readers_accept_can_be_chunked(tmp_path: Path) -> None:
    """A title longer than a chunk used to crash ingest inside llama-index's splitter."""
    path = tmp_path / "mixed.jsonl"
    titles = ["word " * 90, "🧪" * 31, "x" * MAX_TITLE_CHARS, "Ünïcödé " * 10, "Short"]
    path.write_text(jsonl(*({**GOOD, "title": t} for t in titles)))
    papers: list[Paper] = read_jsonl(path, warnings=[])
    assert papers
    assert Chunker(ChunkSettings()).chunk(papers)


# -- paths ---------------------------------------------------------------------------------------
def test_folder_reads_only_its_own_corpus_files(tmp_path: Path) -> None:
    folder = tmp_path / "corpus"
    folder.mkdir()
    outside = tmp_path / "secret.txt"
    outside.write_text(listing("Secret Paper"))
    (folder / "good.txt").write_text(listing("Paper One"))
    (folder / "papers.JSONL").write_text(jsonl(GOOD))
    (folder / "escape.txt").symlink_to(outside)  # a link out of the folder
    (folder / "dangling.txt").symlink_to(tmp_path / "missing.txt")
    (folder / "inside.txt").symlink_to(folder / "good.txt")  # a link within: same file, read once
    (folder / ".hidden.txt").write_text(listing("Hidden Paper"))
    (folder / "README.md").write_text(listing("Readme Paper"))
    (folder / "notes.xlsx").write_bytes(b"PK\x03\x04")  # a format we do not read
    (folder / "dir.txt").mkdir()  # a folder with a corpus suffix
    (folder / "sub").mkdir()
    (folder / "sub" / "nested.txt").write_text(listing("Nested Paper"))  # not recursed
    os.mkfifo(folder / "pipe.txt")  # would block forever if opened
    corpus = load_corpus([folder])
    assert sorted(p.title for p in corpus.papers) == ["A Good Paper", "Paper One"]
    assert sorted(Path(f).name for f in corpus.files) == ["good.txt", "papers.JSONL"]
    report = {(w.path, w.line): w.message for w in corpus.warnings}
    assert set(report) == {
        (name, 0) for name in ("escape.txt", "dangling.txt", "dir.txt", "pipe.txt", "inside.txt")
    }
    assert "not followed" in report[("escape.txt", 0)] and "not followed" in report[("dangling.txt", 0)]
    assert "not a regular file" in report[("dir.txt", 0)] and "not a regular file" in report[("pipe.txt", 0)]
    assert "secret" not in " ".join(map(str, corpus.warnings)).lower()


def test_paths_the_user_names_are_read_as_given(tmp_path: Path) -> None:
    target = tmp_path / "real.txt"
    target.write_text(listing("Linked Paper"))
    link = tmp_path / "link.txt"
    link.symlink_to(target)
    assert [p.title for p in load_corpus([link]).papers] == ["Linked Paper"]  # named: followed
    folder_link = tmp_path / "folder-link"
    (tmp_path / "folder").mkdir()
    (tmp_path / "folder" / "a.txt").write_text(listing("Folder Paper"))
    folder_link.symlink_to(tmp_path / "folder")
    assert [p.title for p in load_corpus([folder_link]).papers] == ["Folder Paper"]
    os.mkfifo(tmp_path / "pipe.txt")
    with pytest.raises(ValueError, match="neither a regular file nor a folder"):
        load_corpus([tmp_path / "pipe.txt"])
    with pytest.raises(FileNotFoundError):
        load_corpus([tmp_path / "missing.txt"])


def test_unreadable_file_is_a_warning(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import rag.corpus

    (tmp_path / "good.txt").write_text(listing("Paper One"))
    (tmp_path / "locked.txt").write_text(listing("Locked Paper"))
    real_reader = rag.corpus.SUFFIXES[".txt"]

    def reader(path: Path, **kw: object) -> list[Paper]:
        if path.name == "locked.txt":  # chmod 0 does not stop root, so fail like a locked file
            raise PermissionError(13, "Permission denied", str(path))
        return real_reader(path, **kw)  # type: ignore[arg-type]

    monkeypatch.setitem(rag.corpus.SUFFIXES, ".txt", reader)
    corpus = load_corpus([tmp_path])
    assert [p.title for p in corpus.papers] == ["Paper One"]
    assert [(w.path, w.line) for w in corpus.warnings] == [("locked.txt", 0), ("locked.txt", 0)]
    assert "cannot be read (Permission denied)" in corpus.warnings[0].message
