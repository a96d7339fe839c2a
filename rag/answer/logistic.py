"""A fitted logistic decision: P(yes | features) against a threshold, loaded from JSON.

Used where the pipeline decides from features it already has, with weights fitted on the dev
split by ``python -m eval.calibrate`` instead of set by hand: answer or abstain
(:mod:`answerable`), and which retrieved papers a list answer names (:mod:`membership`).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from importlib import resources
from typing import Any, ClassVar, Self


@dataclass(frozen=True)
class LogisticModel:
    """Logistic model of P(yes | features) and the threshold it is compared with."""

    #: The feature names a model of this kind may use (a subclass sets them).
    FEATURES: ClassVar[tuple[str, ...]] = ()

    weights: dict[str, float]
    bias: float
    threshold: float
    meta: dict[str, Any]

    def probability(self, features: dict[str, float]) -> float:
        """P(yes | features); a feature the model does not know counts as 0."""
        z = self.bias + sum(w * features.get(name, 0.0) for name, w in self.weights.items())
        return 1.0 / (1.0 + math.exp(-max(-60.0, min(60.0, z))))

    def to_dict(self) -> dict[str, Any]:
        """JSON form (the file :meth:`load` reads)."""
        return {"weights": self.weights, "bias": self.bias, "threshold": self.threshold, **self.meta}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Self:
        """Parse the JSON form; unknown feature names are an error (a stale file)."""
        weights = {str(k): float(v) for k, v in data["weights"].items()}
        unknown = set(weights) - set(cls.FEATURES)
        if unknown:
            raise ValueError(f"{cls.__name__} uses unknown features: {sorted(unknown)}")
        meta = {k: v for k, v in data.items() if k not in ("weights", "bias", "threshold")}
        return cls(weights, float(data["bias"]), float(data["threshold"]), meta)

    @classmethod
    def load(cls, package: str, filename: str) -> Self:
        """The fitted model shipped with the package as ``filename``."""
        text = resources.files(package).joinpath(filename).read_text(encoding="utf-8")
        return cls.from_dict(json.loads(text))
