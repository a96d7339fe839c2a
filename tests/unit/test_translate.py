"""Questions in other languages translated by the model (llm mode): which replies are kept as
the English question, and what a translation must keep (the pipeline path with the real
model's replies: tests/unit/test_answer_recorded.py)."""

from __future__ import annotations

import pytest

from rag.answer.language import name_words
from rag.answer.prompts import load_prompt
from rag.answer.translate import MAX_GROWTH, SLACK_CHARS, accept, translation_messages

FRENCH = (
    "Je cherche un article qui propose de décrire n'importe quelle architecture de réseau de neurones "
    "sous forme de texte, afin qu'un seul prédicteur de performance serve pour tous les espaces de "
    "recherche. De quel article s'agit-il ?"
)
ENGLISH = (
    "I am looking for a paper that describes any neural network architecture as text, so that a single "
    "performance predictor serves all search spaces. Which paper is it?"
)


def test_the_prompt_carries_the_question_and_asks_for_a_translation_only() -> None:
    messages = translation_messages(FRENCH)
    assert [m["role"] for m in messages] == ["user"]
    assert messages[0]["content"] == load_prompt("translate").render(question=FRENCH)
    assert FRENCH in messages[0]["content"] and "Do not answer it" in messages[0]["content"]


def test_a_plain_translation_is_kept() -> None:
    assert accept(FRENCH, ENGLISH) == ENGLISH
    # Labels, quotes and line breaks the model adds around it are not part of the question.
    assert accept(FRENCH, 'English question: "' + ENGLISH.replace(" text,", "\ntext,") + '"') == ENGLISH


def test_names_the_translation_lost_are_appended() -> None:
    italian = "Quali articoli della raccolta si occupano delle reti di Kolmogorov-Arnold (KAN)?"
    reply = "Which papers in the collection deal with networks with learnable activation functions?"
    assert name_words(italian) == ["Kolmogorov-Arnold", "KAN"]
    assert accept(italian, reply) == f"{reply} (Kolmogorov-Arnold, KAN)"
    # Kept names (any case) are not repeated.
    assert accept(italian, "Which papers deal with kolmogorov-arnold networks (KAN)?") == (
        "Which papers deal with kolmogorov-arnold networks (KAN)?"
    )
    chinese = "DMT-JEPA在哪些基准上评估？"
    assert accept(chinese, "On which benchmarks was it evaluated?") == (
        "On which benchmarks was it evaluated? (DMT-JEPA)"
    )


@pytest.mark.parametrize(
    "reply",
    [
        "",
        # An answer, not the question (the original asks something; this asks nothing).
        "The technique that applies Post-LN to the first layers is called Mix-LN.",
        # Still not English.
        "Je cherche un article sur les architectures de réseaux de neurones. Lequel ?",
        # A ramble far longer than any translation.
        "Which paper is it? " + "It describes architectures as text. " * 40,
    ],
)
def test_unusable_replies_are_rejected(reply: str) -> None:
    assert accept(FRENCH, reply) is None


def test_the_length_limit_scales_with_the_question() -> None:
    short = "Was ist Mix-LN?"
    limit = MAX_GROWTH * len(short) + SLACK_CHARS
    assert accept(short, "What is Mix-LN?" + " " * 3 + "x" * (limit - 20)) is not None
    assert accept(short, "What is Mix-LN? " + "x" * limit) is None
