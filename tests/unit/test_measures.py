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


def test_the_shorthand_of_everyday_measures_is_widened_to_the_measure() -> None:
    assert "accuraci" in quantity_target("what top1 acc does it get on cifar100")
    assert measure_terms("parameters") <= quantity_target("how many params does it have")


def test_every_description_is_matched_by_its_own_words() -> None:
    for names, phrases in GLOSSARY.items():
        for phrase in phrases:
            assert measure_terms(names) <= named_measures(measure_terms(f"{phrase} score"))


def test_shorthand_for_a_measure_asks_for_a_quantity() -> None:
    from rag.answer.question import asks_for_quantity

    assert asks_for_quantity("what top1 acc does MEMO get on cifar100")
    assert asks_for_quantity("how big is it in params")
    assert not asks_for_quantity("which paper does zero knowledge proofs")


def test_a_measure_named_by_its_noun_asks_for_a_quantity() -> None:
    from rag.answer.question import asks_for_quantity

    assert asks_for_quantity("What peak learning rate and batch size did the BERT paper use?")
    assert asks_for_quantity("What is the measured water abundance in Saturn's atmosphere?")
    assert asks_for_quantity("What is the numerical precision of localization reported for Grad-CAM?")
    assert not asks_for_quantity("What is the learning paradigm NeuMeta introduces?")
    assert not asks_for_quantity("What loss function does LeJEPA combine with SIGReg?")


def test_a_part_measures_only_what_it_names() -> None:
    from rag.answer.plan import make_plan

    plan = make_plan(
        "How deep was the fully-connected network in the gradient noise paper, "
        "and how many GPU hours did it take?"
    )
    # "how deep" names no measure: it does not take the other part's ("GPU hours").
    assert [bool(t) for _, t in plan.measured_parts] == [False, True]
    plan = make_plan("How many GPUs and how many hours did it take to pretrain LeJEPA's ViT-H/14?")
    assert all("gpus" in t or "hour" in t for _, t in plan.measured_parts)


def test_a_hyphenated_measure_matches_its_unhyphenated_shorthand() -> None:
    asked = quantity_target("what top1 does vanilla resnet50 get on imagenet")
    assert asked == {"top1"} and asked <= measure_terms("It obtains 80.67% top-1 accuracy on ImageNet.")


def test_chat_shorthand_for_combinations_is_widened() -> None:
    from rag.answer.question import quantity_target

    assert "combin" in quantity_target("how many combos did they train")
