"""Bring your own collection, end to end: each export format in tests/data/collections is
ingested into a fresh index and answers a question citing a paper from it; author, venue and
year filters; references out; the CLI's ``ingest --map`` for a spreadsheet."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import bibtexparser
import pytest

from rag import Assistant, SearchFilters, Settings
from tests.integration.test_cli import scholium

pytestmark = pytest.mark.integration
DATA = Path(__file__).resolve().parents[1] / "data" / "collections"


@pytest.fixture(scope="module")
def collection(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Assistant]:
    data = tmp_path_factory.mktemp("collection")
    assistant = Assistant(Settings(data_dir=data, progress=False, corpus={"paths": [DATA]}))
    report = assistant.ingest()
    assert report.papers_seen == 9 and any("no abstract" in w for w in report.warnings)
    yield assistant


@pytest.mark.parametrize(
    ("question", "title", "source"),
    [
        (
            "What BLEU does the Transformer reach on WMT 2014 English-to-German?",
            "Attention Is All You Need",
            "zotero.bib",
        ),
        (
            "How much top-1 accuracy does DeiT-B reach on ImageNet without external data?",
            "Training data-efficient image transformers",
            "zotero.bib",
        ),
        (
            "What error do ensembles of residual nets reach on the ImageNet test set?",
            "Deep Residual Learning",
            "endnote.ris",
        ),
        (
            "Which optimizer uses adaptive estimates of lower-order moments?",
            "Adam: A Method",
            "openalex-page.json",
        ),
        (
            "Which framework trains a generator and a discriminator in a minimax two-player game?",
            "Generative Adversarial Nets",
            "zotero.csv",
        ),
        (
            "How long does segmenting a 512x512 image take with the contracting and expanding path network?",
            "U-Net",
            "zotero-csl.json",
        ),
    ],
)
def test_each_format_answers_with_its_paper(
    collection: Assistant, question: str, title: str, source: str
) -> None:
    answer = collection.ask(question, mode="extractive")
    assert not answer.abstained, answer.text
    cited = collection.papers([c.paper_id for c in answer.citations])
    match = [p for p in cited.values() if p.title.startswith(title)]
    assert match and source in match[0].sources, (answer.text, [p.title for p in cited.values()])
    # References out carry the collection's metadata.
    entries = bibtexparser.parse_string(answer.to_bibtex()).entries
    entry = next(e for e in entries if e.fields_dict["title"].value.strip("{}").startswith(title))
    assert "author" in entry.fields_dict and "year" in entry.fields_dict


def test_author_venue_and_year_filters(collection: Assistant) -> None:
    def titles(**kw: object) -> list[str]:
        return [
            r.title for r in collection.search("neural networks training", k=9, filters=SearchFilters(**kw))
        ]

    assert titles(author="hinton") == ["Dropout: a simple way to prevent neural networks from overfitting"]
    assert titles(venue="neural computation") == ["Long Short-Term Memory"]
    assert titles(year_min=2020) == [
        "Training data-efficient image transformers & distillation through attention"
    ]
    assert titles(author="nobody at all") == []
    assert len(titles()) == 9


def test_cli_ingests_a_spreadsheet_with_mapped_columns(tmp_path: Path) -> None:
    sheet = tmp_path / "reading-list.tsv"
    sheet.write_text(
        "Paper\tSummary\tWho\tWhen\n"
        "Sparse Ferns for Tiny Robots\t"
        "We show that sparse ferns let tiny robots localise with 3 kB of memory.\tAda Lovelace\t2023\n",
        encoding="utf-8",
    )
    settings = Settings(data_dir=tmp_path / "data")
    out = scholium(
        settings, "ingest", str(sheet), "--map", "title=Paper,abstract=Summary,authors=Who,date=When"
    )
    assert out.returncode == 0, out.stderr
    assert "1 new" in out.stdout
    out = scholium(settings, "search", "robot localisation memory", "--author", "lovelace", "--json")
    assert out.returncode == 0, out.stderr
    assert '"Sparse Ferns for Tiny Robots"' in out.stdout
    bad = scholium(settings, "ingest", str(sheet), "--map", "title")
    assert bad.returncode == 2 and "FIELD=COLUMN" in bad.stderr
