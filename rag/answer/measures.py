"""Evaluation measures users describe in words instead of naming them.

"What segmentation overlap score did it post?" asks for the mIoU; "what image-quality distance
score did it reach?" asks for the FID. Abstracts state such values under the measure's name
("mIoU 86.18%", "FID-50K of 1.80"), so a question's measure words are widened with the names of
the standard measure they describe (:func:`named_measures`). Only measures with a fixed meaning
across papers are listed; everyday ones (accuracy, latency, parameters) are named as they are,
or by their common shorthand ("top1 acc", "#params"), which is widened the same way.
"""

from __future__ import annotations

from .terms import measure_terms

#: Names of a measure (as abstracts write them) → phrases that describe it.
GLOSSARY: dict[str, tuple[str, ...]] = {
    "FID": ("Fréchet distance", "Frechet distance", "inception distance", "image quality distance",
            "image distance", "image fidelity distance", "generation quality distance"),
    "mIoU IoU": ("segmentation overlap", "intersection over union", "overlap score", "mask overlap",
                 "region overlap"),
    "BLEU": ("translation quality", "translation score"),
    "WER": ("word error", "transcription error"),
    "PSNR SSIM": ("signal to noise", "reconstruction quality", "structural similarity"),
    "mAP AP": ("average precision", "detection precision"),
    "AUC AUROC": ("area under",),
    # Shorthand of everyday measures.
    "accuracy": ("acc",),
    "parameters": ("params",),
    "combinations": ("combos",),
    "error": ("err",),
}  # fmt: skip

_DESCRIBED: tuple[tuple[frozenset[str], frozenset[str]], ...] = tuple(
    (measure_terms(phrase), measure_terms(names)) for names, phrases in GLOSSARY.items() for phrase in phrases
)


def named_measures(target: frozenset[str]) -> frozenset[str]:
    """The measure names (stemmed) that the measure words ``target`` describe: every word of one
    of a measure's descriptions is in ``target`` ("segment", "overlap" → "miou", "iou")."""
    out: set[str] = set()
    for described, names in _DESCRIBED:
        if described <= target:
            out |= names
    return frozenset(out)
