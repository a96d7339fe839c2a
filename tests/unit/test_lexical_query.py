"""The lexical query of a list question: its topic, not the words that ask for papers."""

from __future__ import annotations

import pytest

from rag.index.lexical.analysis import terms
from rag.retrieve.query import FRAME_WORDS, lexical_query


@pytest.mark.parametrize(
    ("question", "topic"),
    [
        ("What papers look at grokking?", "What at grokking ?"),
        ("Anything in here about hypernetworks?", "in about hypernetworks ?"),
        (
            "List the work that searches architecture and quantization together.",
            "the that searches architecture and quantization together .",
        ),
        # Verbs of the frame: "papers that study X", "abstracts that deal with X".
        ("Which papers in the collection study grokking?", "Which in the grokking ?"),
        ("which abstracts deal with grokking?", "which with grokking ?"),
        # Only frame words: the query is kept whole (a search for "papers" still finds something).
        ("papers", "papers"),
        ("List the papers.", "List the papers."),
    ],
)
def test_frame_words_are_dropped(question: str, topic: str) -> None:
    assert lexical_query(question) == topic


def test_the_frame_leaves_the_topic_terms_intact() -> None:
    question = "Which abstracts mention Kolmogorov-Arnold networks in the collection?"
    kept = set(terms([lexical_query(question)])[0])
    assert kept == set(terms([question])[0]) - set(terms([" ".join(FRAME_WORDS)])[0])
    assert {"kolmogorov", "arnold", "network"} <= kept
