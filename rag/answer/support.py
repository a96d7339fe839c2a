"""How well a piece of text supports a claim: embedding similarity + lexical coverage.

No NLI/cross-encoder model ships on PyPI in a usable form, so support is scored as
``0.5 * max cosine(claim, evidence sentence) + 0.5 * share of the claim's content words found
in the evidence``; numbers in the claim must occur in the evidence verbatim.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from functools import cache
from pathlib import Path

import numpy as np
import numpy.typing as npt

from ..embeddings.base import Embedder
from ..embeddings.multilingual import PassageEncoder
from .terms import bare_numbers, content_terms, names_supported

Vector = npt.NDArray[np.float32]


class SentenceEmbedder:
    """Embeds sentences with the index's model, caching vectors (abstract sentences recur)."""

    def __init__(self, model: Embedder, max_cache: int = 50_000) -> None:
        self.model = model
        self.max_cache = max_cache
        self._cache: dict[str, Vector] = {}
        self._lock = threading.Lock()

    def embed(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        """Unit vectors for ``texts`` (rows in order)."""
        with self._lock:  # a snapshot: another thread may clear the cache meanwhile
            found = {t: self._cache[t] for t in texts if t in self._cache}
        missing = list(dict.fromkeys(t for t in texts if t not in found))
        if missing:
            vectors = np.asarray(self.model.get_text_embedding_batch(missing), dtype=np.float32)
            norms = np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
            fresh = dict(zip(missing, vectors / norms, strict=True))
            found.update(fresh)
            with self._lock:
                if len(self._cache) + len(fresh) > self.max_cache:
                    self._cache.clear()
                self._cache.update(fresh)
        if not texts:
            return np.zeros((0, 0), np.float32)
        return np.stack([found[t] for t in texts])


def lexical_coverage(claim: str, evidence: str) -> float:
    """Share of the claim's content words that appear in the evidence (1.0 if it has none)."""
    terms = content_terms(claim)
    if not terms:
        return 1.0
    return len(terms & content_terms(evidence)) / len(terms)


def support_score(cosine: float, coverage: float) -> float:
    """The support score from a claim's best cosine and its lexical coverage (module docstring)."""
    return 0.5 * max(cosine, 0.0) + 0.5 * coverage


def numbers_supported(claim: str, evidence: str) -> bool:
    """Every number in the claim appears in the evidence."""
    return bare_numbers(claim) <= bare_numbers(evidence)


class SupportScorer:
    """Scores claims (answer sentences, questions) against evidence sentences."""

    def __init__(self, embedder: SentenceEmbedder) -> None:
        self.embedder = embedder

    def relevance(self, query: str, sentences: Sequence[str]) -> list[float]:
        """Relevance of each sentence to a query: 0.6 cosine + 0.4 query-term coverage."""
        if not sentences:
            return []
        vectors = self.embedder.embed([query, *sentences])
        cosines = vectors[1:] @ vectors[0]
        q_terms = content_terms(query)
        out = []
        for sentence, cos in zip(sentences, cosines, strict=True):
            overlap = len(q_terms & content_terms(sentence)) / len(q_terms) if q_terms else 0.0
            out.append(0.6 * float(cos) + 0.4 * overlap)
        return out

    def support(self, claim: str, evidence_sentences: Sequence[str], context: str = "") -> float:
        """Support of ``claim`` by evidence sentences (plus ``context``, e.g. the title), 0..1.

        Zero when a number in the claim is absent from the evidence.
        """
        if not evidence_sentences:
            return 0.0
        joined = " ".join([context, *evidence_sentences])
        if not numbers_supported(claim, joined) or not names_supported(claim, joined):
            return 0.0
        vectors = self.embedder.embed([claim, *evidence_sentences])
        best = float((vectors[1:] @ vectors[0]).max())
        return support_score(best, lexical_coverage(claim, joined))


#: The map from the multilingual encoder's cosine onto :meth:`SupportScorer.relevance`'s scale,
#: fit on the dev split (``python -m eval.calibrate crosslingual``).
SCALE_FILE = Path(__file__).with_name("crosslingual.json")


@cache
def load_scale() -> tuple[float, float]:
    """(intercept, slope) of the cosine → relevance map (see :data:`SCALE_FILE`)."""
    data = json.loads(SCALE_FILE.read_text(encoding="utf-8"))
    return float(data["intercept"]), float(data["slope"])


class CrossLingualScorer(SupportScorer):
    """Relevance of (English) sentences to a question in another language.

    The English scorer's cosine and word overlap say nothing across languages; the multilingual
    encoder's cosine does, but on its own scale (its cosines bunch between 0.7 and 0.9). It is
    mapped linearly onto the English relevance scale (``intercept + slope * cosine``: the map
    that gives the multilingual cosines of the dev questions' evidence sentences the mean and
    spread of their English relevance), so the same floors (``answer.min_relevance``,
    ``answer.extractive_min_relevance``) hold. Support of claims (:meth:`support`) stays the
    English scorer's: the claims checked are English sentences.
    """

    def __init__(
        self, embedder: SentenceEmbedder, encoder: PassageEncoder, scale: tuple[float, float] | None = None
    ) -> None:
        super().__init__(embedder)
        self.encoder = encoder
        self.intercept, self.slope = scale or load_scale()
        self._cache: dict[str, Vector] = {}
        self._lock = threading.Lock()

    def cosines(self, query: str, sentences: Sequence[str]) -> list[float]:
        """The multilingual encoder's cosine of each sentence with ``query``."""
        with self._lock:  # a snapshot: another thread may clear the cache meanwhile
            found = {s: self._cache[s] for s in sentences if s in self._cache}
        missing = list(dict.fromkeys(s for s in sentences if s not in found))
        if missing:
            fresh = dict(zip(missing, self.encoder.passages(missing), strict=True))
            found.update(fresh)
            with self._lock:
                if len(self._cache) + len(fresh) > 50_000:
                    self._cache.clear()
                self._cache.update(fresh)
        q = self.encoder.queries([query])[0]
        return [float(found[s] @ q) for s in sentences]

    def relevance(self, query: str, sentences: Sequence[str]) -> list[float]:
        """The multilingual cosine on the English relevance scale (see the class docstring)."""
        if not sentences:
            return []
        return [self.intercept + self.slope * c for c in self.cosines(query, sentences)]
