"""Measures described in words are matched under their names ("segmentation overlap" → mIoU)."""

from __future__ import annotations

import pytest

from rag.answer.measures import GLOSSARY, named_measures
from rag.answer.question import quantity_target
from rag.answer.terms import measure_terms


@pytest.mark.parametrize(
    ("question", "name"),
    [
        ("What segmentation overlap score did it post?", "miou"),
        ("What image-quality distance score does the 16.5B model reach?", "fid"),
        ("What Fréchet distance does it reach on ImageNet 256?", "fid"),
        ("What translation quality score does it get on WMT'14?", "bleu"),
        ("What average precision does the detector reach?", "map"),
    ],
)
def test_a_described_measure_adds_its_name(question: str, name: str) -> None:
    assert name in quantity_target(question)


@pytest.mark.parametrize(
    "question",
    ["How many parameters does it have?", "What accuracy does it reach?", "What distance does it travel?"],
)
def test_other_measures_are_left_as_asked(question: str) -> None:
    target = quantity_target(question)
    assert not target & {"fid", "miou", "iou", "bleu", "wer", "psnr", "ssim", "map", "ap", "auc"}


def test_every_description_is_matched_by_its_own_words() -> None:
    for names, phrases in GLOSSARY.items():
        for phrase in phrases:
            assert measure_terms(names) <= named_measures(measure_terms(f"{phrase} score"))
