"""Question spelling correction against the collection's vocabulary (rag/retrieve/spelling.py)."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rag.index.lexical import LexicalRow, build
from rag.index.lexical.analysis import terms
from rag.retrieve.spelling import SHORTHAND, correct_spelling, edits1

TEXTS = [
    "SpaceEvo: Hardware-Friendly Search Space Design for Efficient INT8 Inference",
    "Our discovered models establish new quantization accuracy under latency constraints.",
    "The ByteNet uses dilation to increase its receptive field.",
    "A candidate architecture is chosen under each condition, in several conditions.",
    "ReNet and MRF+CNN are outperformed in the lane detection dataset.",
    "Retention of the memory matters for retentive models.",
]


@pytest.fixture(scope="module", params=["tantivy", "bm25s"])
def doc_freq(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> object:
    rows = [LexicalRow(f"p{i}:c:0", text, {"paper_id": f"p{i}"}) for i, text in enumerate(TEXTS)]
    return build(request.param, tmp_path_factory.mktemp(request.param), rows, "s1").doc_freq


def occurs(word: str) -> str | None:
    """The word as the texts write it (what the pipeline reads from the papers store)."""
    pattern = re.compile(rf"(?<!\w){re.escape(word)}(?!\w)", re.IGNORECASE)
    return next((m.group(0) for t in TEXTS if (m := pattern.search(t))), None)


def test_doc_freq_counts_chunks_with_the_stem(doc_freq) -> None:  # type: ignore[no-untyped-def]
    assert doc_freq(terms(["conditions"])[0][0]) == 1  # "condition" and "conditions": one chunk
    assert doc_freq("quantiz") == 1
    assert doc_freq("nothing") == 0
    assert doc_freq("") == 0


def test_typos_become_the_collections_words_and_names(doc_freq) -> None:  # type: ignore[no-untyped-def]
    fixed = correct_spelling(
        "wat metrc does the SpcaeEvo mehtod use for quantizaton at the same latancy?", doc_freq, occurs
    )
    assert fixed.changes == {
        "SpcaeEvo": "SpaceEvo", "quantizaton": "quantization", "latancy": "latency", "wat": "what"
    }  # fmt: skip
    assert fixed.text == "what metrc does the SpaceEvo mehtod use for quantization at the same latency?"


def test_a_name_is_written_as_the_collection_writes_it(doc_freq) -> None:  # type: ignore[no-untyped-def]
    assert correct_spelling("What does the ByteNett model use?", doc_freq, occurs).changes == {
        "ByteNett": "ByteNet"
    }


def test_an_english_word_beats_a_stem_of_another_word(doc_freq) -> None:  # type: ignore[no-untyped-def]
    # "conditate" stems to "condit" like "condition", which more chunks contain; it is no word.
    assert correct_spelling("a canditate network", doc_freq, occurs).changes == {"canditate": "candidate"}


@pytest.mark.parametrize(
    "question",
    [
        "Which paper introduces RetNet?",  # a short name one edit from "ReNet": another model
        "What does the Retentnet do?",  # one edit from the stem "retent", which no paper writes
        "Wie viele Parameter hat das Modell?",  # lower-case foreign words: no English word near
        "Which ships carry GNMT?",  # English words and acronyms are left alone
        "SpaceEvo quantization latency",  # nothing misspelled
    ],
)
def test_left_alone(doc_freq, question: str) -> None:  # type: ignore[no-untyped-def]
    assert correct_spelling(question, doc_freq, occurs).text == question


def test_names_are_not_corrected_by_replacing_a_letter() -> None:
    assert "resnet" in edits1("retnet")
    assert "resnet" not in edits1("retnet", replace=False)
    assert {"bytenet", "bytenett", "ybtenet"} & edits1("bytnet") == {"bytenet"}
    assert {"bytnet", "bytenett", "ybtenet", "bytenst"} <= edits1("bytenet")
    assert "bytenet" not in edits1("bytenet")


@given(st.text(alphabet=st.characters(codec="ascii"), max_size=60))
def test_a_collection_without_words_changes_only_chat_shorthand(text: str) -> None:
    fixed = correct_spelling(text, lambda _term: 0)
    assert all(word.lower() in SHORTHAND or word == "n" for word in fixed.changes)  # "n" before "how": "and"
    assert fixed.text == text or fixed.changes


def test_chat_shorthand_for_function_words_is_written_out(doc_freq) -> None:  # type: ignore[no-untyped-def]
    fixed = correct_spelling("hw mny candidates r there nd wich ones", doc_freq)
    assert fixed.text == "how many candidates are there and which ones"
    assert fixed.changes["hw"] == "how" and fixed.changes["wich"] == "which"
    assert correct_spelling("Wat is SpaceEvo?", doc_freq).text == "What is SpaceEvo?"
    # Not in another language's question, not written as an acronym, not a word the papers use.
    assert correct_spelling("da dove viene", doc_freq, names_only=True).text == "da dove viene"
    assert correct_spelling("What does HW cost?", doc_freq).text == "What does HW cost?"


def test_a_lone_n_before_a_question_word_is_and(doc_freq) -> None:  # type: ignore[no-untyped-def]
    fixed = correct_spelling("wich paper uses n layers n how do they train", doc_freq)
    assert fixed.text == "which paper uses n layers and how do they train"
    assert fixed.changes["n"] == "and"
    assert correct_spelling("n hw", doc_freq, names_only=True).text == "n hw"
