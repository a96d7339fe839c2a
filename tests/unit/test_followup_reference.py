"""Which of the previous answer's papers a follow-up points at ("the second one", "the speech one")."""

from __future__ import annotations

import pytest

from rag.answer.question import (
    _named_before,
    cited_claim,
    cited_segments,
    name_reference,
    referenced_marker,
)

LISTED = (
    "Several do: (1) UniFormer reports Kinetics-400 results [1]; (2) Mamba-ND, which extends Mamba "
    "to multi-dimensional data, is evaluated on HMDB-51 [2]; (3) the Delta Activation Layer paper "
    "trains on UCF101 [3]."
)
NAME_FIRST = (
    "Yes, two: Spikformer V2 [1] brings spiking self-attention to SNNs; and a paper on learning "
    "synaptic delays [2], evaluated on speech benchmarks such as SHD."
)


@pytest.mark.parametrize(
    ("question", "answer", "marker"),
    [
        ("Besides video, what else was the second one tested on?", LISTED, 2),
        ("What about the first paper?", LISTED, 1),
        ("And the latter?", LISTED, 3),
        ("What did the former report?", LISTED, 1),
        ("What does paper [3] use?", LISTED, 3),
        ("What did reference 2 find?", LISTED, 2),
        ("For the speech one, which neuron model did they use?", NAME_FIRST, 2),
        ("What accuracy did it reach?", LISTED, None),  # "it": the answer's main paper
        ("What about the fifth one?", LISTED, None),  # no such citation
        ("And the second one?", "Mix-LN mixes Post-LN and Pre-LN [1].", None),  # one paper only
        ("What about the video one?", LISTED, None),  # no cited text names it: not guessed
    ],
)
def test_referenced_marker(question: str, answer: str, marker: int | None) -> None:
    assert referenced_marker(question, answer) == marker


def test_cited_segments_say_what_the_answer_said_about_each_paper() -> None:
    segments = cited_segments(LISTED)
    assert sorted(segments) == [1, 2, 3]
    assert segments[2].startswith("(2) Mamba-ND") and "HMDB-51" in segments[2]


@pytest.mark.parametrize(
    ("question", "named"),
    [
        ("The second one — which datasets did they use?", "This paper — which datasets did they use?"),
        ("How many bugs did the fuzzing one uncover?", "How many bugs did this paper uncover?"),
        ("For the first one, how fast is it?", "For this paper, how fast is it?"),
        ("What does paper [2] report?", "What does this paper report?"),
        ("What did the latter use?", "What did this paper use?"),
        ("How big is it?", "How big is it?"),
    ],
)
def test_the_pointer_at_a_cited_paper_is_replaced_by_its_name(question: str, named: str) -> None:
    assert name_reference(question, "this paper") == named


def test_the_claim_about_a_cited_paper_is_its_own_clause_or_quoted_title() -> None:
    # Each paper named before its marker: the segment ending in [2] also holds what was said
    # about [1]; the title quoted right before the marker is the paper.
    titled = (
        "Two do: 'Wide Attention Is The Way Forward For Transformers?' [1] shows single-layer wide "
        "Transformers compete with deep ones, and 'Make Deep Networks Shallow Again' [2] replaces a stack."
    )
    assert cited_claim(titled, 2) == "Make Deep Networks Shallow Again"
    assert cited_claim(titled, 1) == "Wide Attention Is The Way Forward For Transformers?"
    # Claim first, then the marker: the last clause before [2] is about [2] only.
    claims = "Mix-LN mixes Post-LN and Pre-LN layers [1], while LayerNorm Scaling scales the output [2]."
    assert cited_claim(claims, 2) == "LayerNorm Scaling scales the output"
    assert cited_claim(claims, 1) == "Mix-LN mixes Post-LN and Pre-LN layers"
    assert cited_claim(claims, 3) == ""


def test_a_method_named_before_its_marker_is_the_claim() -> None:
    answer = (
        "m2mKD [1] distills teacher modules into student modules of a modular model, and EMoE [2] "
        "turns a dense transformer into a mixture of experts."
    )
    assert cited_claim(answer, 2) == "EMoE"


def test_a_quoted_term_is_not_a_title() -> None:
    answer = (
        "'Wider and Deeper LLM Networks are Fairer LLM Evaluators' stacks LLM 'neurons' into a "
        "network of reviewers [1]; Sorted LLaMA evaluates its sub-models with PandaLM [2]."
    )
    assert cited_claim(answer, 1) == "Wider and Deeper LLM Networks are Fairer LLM Evaluators"


def test_a_paper_named_at_the_start_of_its_sentence_is_the_claim() -> None:
    # Each paper named, then its marker, then what it does: the segment before [2] ends with the
    # second name but starts with a quote about the first paper.
    answer = (
        'OpenPifPaf [1] uses Composite Fields, "making this the first real-time pose detection and '
        'tracking algorithm". XNect [2] does multi-person 3D motion capture from a single RGB camera.'
    )
    assert cited_claim(answer, 2) == "XNect"
    assert cited_claim(answer, 1) == "OpenPifPaf"
    listing = (
        "A couple: Learning General Audio Representations [1] finds that transformers win. The "
        "complex-valued CNN for echo cancellation [2] proposes a dual mask; and the Linear "
        "State-Space Layer (LSSL) [3] simulates a linear system."
    )
    assert cited_claim(listing, 1) == "Learning General Audio Representations"
    assert cited_claim(listing, 2) == "The complex-valued CNN for echo cancellation"
    assert cited_claim(listing, 3) == "the Linear State-Space Layer (LSSL)"
    # A marker followed by "and ..." is no name's: the earlier rules stay in charge.
    assert _named_before("Mix-LN mixes layers [1] and LayerNorm Scaling scales them [2].", 1) is None
