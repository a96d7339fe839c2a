"""The CI gate: aggregate metrics against minimum/maximum values in ``eval/thresholds.json``.

The file maps an answer mode to ``{"min": {metric: value}, "max": {metric: value}}``; metric
names are those of :func:`eval.aggregate.aggregate` (e.g. ``retrieval.hybrid.hit@5``,
``fact_recall``, ``dangling_markers``). A metric that was not measured fails the gate.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

THRESHOLDS_PATH = Path(__file__).resolve().parent / "thresholds.json"


def load_thresholds(path: Path = THRESHOLDS_PATH) -> dict[str, Any]:
    """The thresholds file as a dict (keys starting with ``_`` are comments)."""
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a JSON object")
    return data


def check_gate(metrics: Mapping[str, Any], spec: Mapping[str, Any]) -> list[str]:
    """Human-readable failures of ``metrics`` against ``spec`` (``{"min": {...}, "max": {...}}``);
    an empty list means the gate passes."""
    failures: list[str] = []
    unknown = set(spec) - {"min", "max"} - {k for k in spec if k.startswith("_")}
    if unknown:
        raise ValueError(f"unknown threshold section(s): {', '.join(sorted(unknown))}")
    for bound, limits in (("min", spec.get("min", {})), ("max", spec.get("max", {}))):
        for name, limit in limits.items():
            value = metrics.get(name)
            if value is None:
                failures.append(f"{name}: not measured (needs {'>=' if bound == 'min' else '<='} {limit})")
            elif bound == "min" and float(value) < float(limit):
                failures.append(f"{name}: {float(value):.3f} < min {float(limit):.3f}")
            elif bound == "max" and float(value) > float(limit):
                failures.append(f"{name}: {float(value):.3f} > max {float(limit):.3f}")
    return failures


def gate_for_mode(metrics: Mapping[str, Any], thresholds: Mapping[str, Any], mode: str) -> list[str]:
    """``check_gate`` with the section for ``mode``; a missing section is a failure."""
    spec = thresholds.get(mode)
    if not isinstance(spec, Mapping):
        return [f"no thresholds for mode {mode!r}"]
    return check_gate(metrics, spec)
