"""Paper vectors in the multilingual space, for questions in other languages.

One vector per paper (its title and whole abstract: in a measurement on the dev questions in
other languages, the whole abstract ranked the right paper first far more often than the title
or the first sentences did), kept next to the index in ``crosslingual.npz`` and brought up to
date incrementally: a paper is encoded again only when its text changed. Encoding is slow
(about a second per abstract on one core: 257 s for the 260 bundled papers), so it happens once,
on the first question that needs it or ahead of time (``scholium ingest --crosslingual``), never
again for the same text.
"""

from __future__ import annotations

import logging
import os
import tempfile
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt

from ..embeddings.multilingual import MODEL_NAME, PassageEncoder
from ..types import Paper

log = logging.getLogger(__name__)

FILE = "crosslingual.npz"
#: Papers encoded per call (and per progress step).
BATCH = 8

Progress = Callable[[int, int], None]
FetchPapers = Callable[[Iterable[str]], Mapping[str, Paper]]


def paper_text(paper: Paper) -> str:
    """What a paper's vector is made of."""
    return f"{paper.title}. {paper.abstract}"


class CrossLingualPapers:
    """Paper id → unit vector of multilingual-e5 (see the module docstring)."""

    def __init__(self, folder: Path, encoder: PassageEncoder) -> None:
        self.path = folder / FILE
        self.encoder = encoder
        self._lock = threading.Lock()
        self._ids: list[str] = []
        self._digests: list[str] = []
        self._vectors: npt.NDArray[np.float32] = np.zeros((0, encoder.dim), np.float32)
        self._loaded_mtime: float | None = None

    def _load(self) -> None:
        """Read the file if it changed since the last read (another process may have written it)."""
        try:
            mtime = self.path.stat().st_mtime
        except FileNotFoundError:
            return
        if mtime == self._loaded_mtime:
            return
        try:
            with np.load(self.path, allow_pickle=False) as data:
                if str(data["model"]) != MODEL_NAME:
                    log.info("cross-language vectors were made by another model; re-encoding")
                    return
                ids, digests = [str(i) for i in data["ids"]], [str(d) for d in data["digests"]]
                vectors = np.asarray(data["vectors"], dtype=np.float32)
        except (OSError, ValueError, KeyError) as exc:
            log.warning("ignoring unreadable %s (%s); re-encoding", self.path, exc)
            return
        if vectors.shape != (len(ids), self.encoder.dim):
            log.warning("ignoring %s: its vectors do not match its ids", self.path)
            return
        self._ids, self._digests, self._vectors = ids, digests, vectors
        self._loaded_mtime = mtime

    def _save(self) -> None:
        """Write atomically (a killed write leaves the old file)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".crosslingual-", suffix=".npz")
        try:
            with os.fdopen(fd, "wb") as out:
                np.savez(
                    out,
                    model=np.array(MODEL_NAME),
                    ids=np.array(self._ids),
                    digests=np.array(self._digests),
                    vectors=self._vectors,
                )
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        self._loaded_mtime = self.path.stat().st_mtime

    def missing(self, current: Mapping[str, str]) -> list[str]:
        """The papers of ``current`` (paper id → content hash, as chunk ids carry it) with no
        vector for that content."""
        with self._lock:
            self._load()
            have = dict(zip(self._ids, self._digests, strict=True))
        return [pid for pid, digest in current.items() if have.get(pid) != digest]

    def update(
        self,
        current: Mapping[str, str],
        fetch: FetchPapers,
        progress: Progress | None = None,
        missing: Sequence[str] | None = None,
    ) -> int:
        """Encode the papers of ``current`` (paper id → content hash) that lack a vector for
        that content (their text from ``fetch``) and forget papers not in ``current``; return
        how many were encoded. ``missing``: those papers, where the caller has just asked
        :meth:`missing`."""
        wanted = self.missing(current) if missing is None else missing
        todo = [p for p in fetch(wanted).values() if p.id in current]
        vectors: list[npt.NDArray[np.float32]] = []
        for start in range(0, len(todo), BATCH):
            vectors.append(self.encoder.passages([paper_text(p) for p in todo[start : start + BATCH]]))
            if progress:
                progress(min(start + BATCH, len(todo)), len(todo))
        with self._lock:
            self._load()
            rows = {pid: (self._digests[i], self._vectors[i]) for i, pid in enumerate(self._ids)}
            for paper, vector in zip(todo, (v for block in vectors for v in block), strict=True):
                rows[paper.id] = (current[paper.id], vector)
            kept = [pid for pid in rows if pid in current]
            if todo or len(kept) != len(self._ids):
                self._ids = kept
                self._digests = [rows[pid][0] for pid in kept]
                self._vectors = (
                    np.stack([rows[pid][1] for pid in kept]).astype(np.float32)
                    if kept
                    else np.zeros((0, self.encoder.dim), np.float32)
                )
                self._save()
        if todo:
            log.info("encoded %d papers for cross-language search", len(todo))
        return len(todo)

    def rank(self, question: str, n: int, among: set[str] | None = None) -> list[tuple[str, float]]:
        """The ``n`` papers (of ``among``, default all) closest to ``question``: ``(id, cosine)``."""
        with self._lock:
            self._load()
            ids, vectors = self._ids, self._vectors
        if not ids:
            return []
        scores = vectors @ self.encoder.queries([question])[0]
        order = np.argsort(-scores)
        ranked = ((ids[i], float(scores[i])) for i in order)
        return [hit for hit in ranked if among is None or hit[0] in among][:n]

    def __len__(self) -> int:
        with self._lock:
            self._load()
            return len(self._ids)


def encode_all(
    store: CrossLingualPapers, current: Mapping[str, str], fetch: FetchPapers, progress: bool
) -> int:
    """:meth:`CrossLingualPapers.update` with a progress bar (when ``progress``)."""
    from tqdm import tqdm

    todo = store.missing(current)
    with tqdm(
        total=len(todo), desc="cross-language vectors", unit="paper", disable=not progress or not todo
    ) as bar:

        def step(done: int, _total: int) -> None:
            bar.update(done - bar.n)

        return store.update(current, fetch, step, missing=todo)


def current_papers(chunk_ids: Iterable[str]) -> dict[str, str]:
    """Paper id → content hash, read off chunk ids (``<paper>:<content hash>:<n>``)."""
    out: dict[str, str] = {}
    for chunk in chunk_ids:
        parts = chunk.split(":")
        if len(parts) >= 2:
            out.setdefault(parts[0], parts[1])
    return out


__all__: Sequence[str] = ("CrossLingualPapers", "current_papers", "encode_all", "paper_text")
