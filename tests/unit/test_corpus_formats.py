"""Bring your own collection: BibTeX, RIS, CSL-JSON, OpenAlex and CSV/TSV readers, on real-style
exports in tests/data/collections (Zotero BibTeX with LaTeX accents and braces, an EndNote RIS
file with CRLF line ends, an OpenAlex API page, a Zotero CSV with a byte-order mark, Zotero
CSL-JSON)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rag.corpus import load_corpus, read_bibtex, read_json, read_ris, read_table
from rag.corpus.jsondocs import openalex_abstract
from rag.corpus.records import iso_date, normalize_doi
from rag.types import ParseWarning

DATA = Path(__file__).resolve().parents[1] / "data" / "collections"


def _read(reader, name: str, **kw):  # type: ignore[no-untyped-def]
    warnings: list[ParseWarning] = []
    return reader(DATA / name, warnings=warnings, **kw), warnings


def test_zotero_bibtex_decodes_latex_and_keeps_reference_fields() -> None:
    papers, warnings = _read(read_bibtex, "zotero.bib")
    by_title = {p.title: p for p in papers}
    assert set(by_title) == {
        "Attention Is All You Need",  # braces that protect case are gone
        "Training data-efficient image transformers & distillation through attention",  # \& decoded
    }
    attention = by_title["Attention Is All You Need"]
    assert "Łukasz Kaiser" in (attention.authors or "") and attention.authors.startswith("Ashish Vaswani")
    assert attention.doi == "10.48550/arxiv.1706.03762" and attention.arxiv_id == "1706.03762"
    assert attention.date == "2017" and attention.year == 2017 and attention.venue == "arXiv"
    assert "28.4 BLEU on the WMT 2014" in attention.abstract
    assert "Computer Science - Machine Learning" in attention.keywords
    deit = by_title["Training data-efficient image transformers & distillation through attention"]
    assert "Hervé Jégou" in (deit.authors or "") and "83.1%" in deit.abstract
    assert deit.venue == "Proceedings of the 38th International Conference on Machine Learning"
    report = {(w.line, w.message.split(":")[0]) for w in warnings}
    assert (28, "entry 'goodfellow_deep_2016' skipped") in report  # a book without an abstract
    assert any(w.line == 36 and "bad BibTeX entry" in w.message for w in warnings)  # never closed


def test_ris_export_with_crlf() -> None:
    papers, warnings = _read(read_ris, "endnote.ris")
    assert [p.title for p in papers] == [
        "Deep Residual Learning for Image Recognition",
        "Batch Normalization: Accelerating Deep Network Training by Reducing Internal Covariate Shift",
    ]
    resnet = papers[0]
    assert resnet.authors == "Kaiming He, Xiangyu Zhang, Shaoqing Ren, Jian Sun"
    assert (
        resnet.date == "2016-06" and resnet.doi == "10.1109/cvpr.2016.90" and resnet.arxiv_id == "1512.03385"
    )
    assert (
        resnet.keywords == ("residual learning", "image classification") and "3.57% error" in resnet.abstract
    )
    assert [(w.line, w.message) for w in warnings] == [(26, "record skipped: no abstract")]


def test_openalex_page_rebuilds_abstracts_from_the_inverted_index() -> None:
    papers, warnings = _read(read_json, "openalex-page.json")
    adam, dropout = papers
    assert adam.title == "Adam: A Method for Stochastic Optimization"
    assert adam.abstract.startswith("We introduce Adam, an algorithm for first-order gradient-based")
    assert adam.authors == "Diederik P. Kingma, Jimmy Ba" and adam.arxiv_id == "1412.6980"
    assert adam.date == "2014-12-22" and adam.venue == "arXiv (Cornell University)"
    assert (
        dropout.venue == "Journal of Machine Learning Research" and dropout.doi == "10.5555/2627435.2670313"
    )
    assert len(warnings) == 1 and "Proceedings front matter" in warnings[0].message
    assert openalex_abstract({"b": [1], "a": [0], "c": [2, 3]}) == "a b c c"
    assert openalex_abstract(None) is None and openalex_abstract({"x": "not positions"}) is None


def test_zotero_csv_with_a_bom_and_semicolon_authors() -> None:
    papers, warnings = _read(read_table, "zotero.csv")
    gan, lstm = papers
    assert gan.title == "Generative Adversarial Nets" and gan.authors.startswith(
        "Ian Goodfellow, Jean Pouget-Abadie"
    )
    assert gan.keywords == ("generative models", "adversarial training") and gan.date == "2014"
    assert lstm.authors == "Sepp Hochreiter, Jürgen Schmidhuber" and lstm.venue == "Neural Computation"
    assert lstm.doi == "10.1162/neco.1997.9.8.1735" and lstm.date == "1997-11-15"
    assert [(w.line, w.message) for w in warnings] == [(4, "row skipped: no abstract")]


def test_csv_columns_can_be_mapped(tmp_path: Path) -> None:
    path = tmp_path / "mine.tsv"
    path.write_text("Paper\tSummary\tWho\nA Tiny Paper\tIt studies tiny things in detail.\tAda Lovelace\n")
    warnings: list[ParseWarning] = []
    assert read_table(path, warnings=warnings) == []
    assert "no title column" in warnings[0].message and "--map" in warnings[0].message
    (paper,) = read_table(path, columns={"title": "Paper", "abstract": "Summary", "authors": "who"})
    assert (paper.title, paper.authors) == ("A Tiny Paper", "Ada Lovelace")
    with pytest.raises(ValueError, match="unknown field"):
        read_table(path, columns={"titel": "Paper"})


def test_csl_json_and_the_same_paper_across_formats_is_merged_by_doi() -> None:
    corpus = load_corpus([DATA])
    titles = sorted(p.title for p in corpus.papers)
    assert len(titles) == 9 and "U-Net: Convolutional Networks for Biomedical Image Segmentation" in titles
    # The CSL-JSON item titled "The Transformer: attention is all you need (preprint)" has the
    # BibTeX entry's DOI: one paper, both sources, the longer abstract and author list kept.
    (attention,) = [p for p in corpus.papers if p.doi == "10.48550/arxiv.1706.03762"]
    assert attention.title == "Attention Is All You Need"
    assert set(attention.sources) == {"zotero.bib", "zotero-csl.json"}
    assert attention.authors and attention.authors.count(",") == 7
    unet = next(p for p in corpus.papers if p.title.startswith("U-Net"))
    assert unet.date == "2015-10-05" and unet.authors == "Olaf Ronneberger, Philipp Fischer, Thomas Brox"


def test_a_json_file_that_is_neither_is_read_as_arxiv_json_lines(tmp_path: Path) -> None:
    path = tmp_path / "snapshot.json"
    rows = [{"id": "2401.00001", "title": "Lines Paper", "abstract": "An abstract about lines."}]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    (paper,) = read_json(path)
    assert paper.arxiv_id == "2401.00001"


def test_field_normalisers() -> None:
    assert normalize_doi("https://doi.org/10.1162/NECO.1997.9.8.1735") == "10.1162/neco.1997.9.8.1735"
    assert normalize_doi("doi: 10.1109/CVPR.2016.90.") == "10.1109/cvpr.2016.90"
    assert normalize_doi("not a doi") is None
    assert iso_date("2016/06//") == "2016-06" and iso_date("2015-10-5") == "2015-10-05"
    assert iso_date("Spring 2019") == "Spring 2019"
