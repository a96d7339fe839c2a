"""Incremental, idempotent ingest: only new or changed papers are embedded.

Order of writes, chosen so that a kill at any point leaves a usable index (the stamps are
:mod:`rag.index.generation`'s protocol):
1. the chunk ids about to change are journalled (:mod:`rag.index.journal`) and the collection
   is stamped ``dirty-<id>``;
2. new chunks are embedded and upserted (chunk ids carry the content hash, so re-running is
   harmless), then chunks of changed/removed papers are deleted;
3. the lexical index is brought in line (the incremental Tantivy backend re-syncs only the
   journalled chunks; bm25s is rebuilt from Chroma) and published atomically, and the
   collection is stamped with the same id. A reader that finds the stamps differ repairs the
   lexical index itself.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from llama_index.core.schema import TextNode
from tqdm import tqdm

from ..corpus import load_corpus
from ..types import Paper
from .chunking import Chunker, embed_text, paper_metadata, paper_of
from .generation import is_complete
from .journal import read as read_journal
from .lexical import LexicalRow
from .lock import index_lock
from .metadata import meta_list
from .store import ScholiumIndex
from .vector_store import ChromaStore

log = logging.getLogger(__name__)


@dataclass
class IngestReport:
    """What an ingest did."""

    papers_seen: int = 0
    papers_new: int = 0
    papers_changed: int = 0
    papers_unchanged: int = 0
    papers_removed: int = 0
    chunks_embedded: int = 0
    chunks_deleted: int = 0
    chunks_total: int = 0
    warnings: list[str] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict."""
        return asdict(self)


def _papers_in_index(
    store: ChromaStore, incoming: set[str], *, every: bool = False
) -> dict[str, tuple[tuple[str, ...], list[str]]]:
    """paper id → (its source files, all its chunk ids), for the ``incoming`` papers that are
    indexed (``every``: for all indexed papers, which reads every chunk id).

    Reads ids only (paper id and content hash are in the chunk id); source files are read
    for papers of this ingest that are already indexed, from one chunk each (a paper's chunks
    are always relabelled together).
    """
    chunks: dict[str, list[str]] = {}
    for chunk in store.chunk_ids() if every else store.chunk_ids_of(incoming):
        chunks.setdefault(paper_of(chunk), []).append(chunk)
    stored = store.get([ids[0] for pid, ids in chunks.items() if pid in incoming])
    out: dict[str, tuple[tuple[str, ...], list[str]]] = {}
    for pid, ids in chunks.items():
        meta = stored.get(ids[0], ("", {}))[1]
        out[pid] = (tuple(meta_list(meta, "sources")), ids)
    return out


def ingest(
    index: ScholiumIndex,
    paths: Iterable[Path] | None = None,
    *,
    prune: bool = False,
    papers: list[Paper] | None = None,
) -> IngestReport:
    """Add the papers under ``paths`` (default: the configured corpus) to the index.

    ``prune=True`` also removes papers that are in the index but not in ``paths``.
    """
    settings = index.settings
    report = IngestReport()
    clock = time.perf_counter()
    if papers is None:
        corpus = load_corpus(
            list(paths or settings.corpus.paths),
            max_line_chars=settings.corpus.max_line_chars,
            columns=settings.corpus.columns,
        )
        papers = list(corpus.papers)
        report.warnings = [str(w) for w in corpus.warnings]
    else:
        papers = list(papers)
    report.papers_seen = len(papers)
    report.seconds["parse"] = time.perf_counter() - clock

    with index_lock(settings.index_dir):
        store = index.chroma
        existing = _papers_in_index(store, {p.id for p in papers}, every=prune)
        todo: list[Paper] = []
        stale: list[str] = []
        relabel: list[tuple[Paper, list[str]]] = []
        for i, paper in enumerate(papers):
            have = existing.get(paper.id)
            if have is None:
                report.papers_new += 1
                todo.append(paper)
                continue
            sources, ids = have
            merged = tuple(dict.fromkeys(sources + paper.sources))
            if merged != paper.sources:
                paper = papers[i] = replace(paper, sources=merged)
            fresh = [c for c in ids if c.split(":")[1:2] == [paper.content_hash]]
            if fresh and len(fresh) == len(ids):
                report.papers_unchanged += 1
                if merged != sources:
                    relabel.append((paper, ids))
            else:
                report.papers_changed += 1
                todo.append(paper)
                stale.extend(c for c in ids if c not in fresh)
        if prune:
            wanted = {p.id for p in papers}
            for pid, (_, ids) in existing.items():
                if pid not in wanted:
                    report.papers_removed += 1
                    stale.extend(ids)

        clock = time.perf_counter()
        nodes = index_chunker(index).chunk(todo)
        report.seconds["chunk"] = time.perf_counter() - clock
        if todo or stale or relabel:
            changing = [n.node_id for n in nodes] + [c for _, ids in relabel for c in ids] + stale
            index.begin_write(changing)
        index.papers.upsert(papers)
        # The lexical rows of this ingest's chunks, so they need not be read back from Chroma.
        written = {n.node_id: LexicalRow.from_chunk(n.node_id, n.text, n.metadata) for n in nodes}
        # A re-run after a kill finds some of these chunks already stored: skip them.
        present = store.existing([n.node_id for n in nodes])
        nodes = [n for n in nodes if n.node_id not in present]
        _embed_and_write(index, nodes, report)
        for paper, ids in relabel:  # same text, new source file: update metadata, no re-embedding
            store.relabel(ids, paper_metadata(paper))
        if stale:
            store.delete(stale)
            report.chunks_deleted = len(stale)
            removed = {paper_of(c) for c in stale} - {p.id for p in papers}
            index.papers.delete(removed)
        clock = time.perf_counter()
        if todo or stale or relabel or not is_complete(store.generation) or journal_pending(index):
            index.publish_lexical(written)
        else:
            index.lexical  # noqa: B018  (verifies/repairs the published lexical index)
        report.seconds["lexical"] = time.perf_counter() - clock
        report.chunks_total = store.count()
    log.info("ingest done: %s", {k: v for k, v in report.to_dict().items() if k != "warnings"})
    return report


def journal_pending(index: ScholiumIndex) -> bool:
    """Whether a killed write left its journal (its chunks may still lag in the lexical index)."""
    return read_journal(index.settings.index_dir) is not None


def index_chunker(index: ScholiumIndex) -> Chunker:
    """The chunker for this index's settings."""
    return Chunker(index.settings.chunk)


def _paper_batches(nodes: list[TextNode], size: int) -> list[list[TextNode]]:
    """Batches of at most ``size`` chunks that never split a paper (a paper longer than
    ``size`` is a batch of its own): each Chroma write is atomic, so after a kill a paper is
    either fully indexed or absent."""
    papers: list[list[TextNode]] = []
    for i, node in enumerate(nodes):
        if i == 0 or paper_of(node.node_id) != paper_of(nodes[i - 1].node_id):
            papers.append([])
        papers[-1].append(node)
    batches: list[list[TextNode]] = []
    for paper in papers:
        if not batches or len(batches[-1]) + len(paper) > size:
            batches.append([])
        batches[-1].extend(paper)
    return batches


#: Chunks embedded per call to the model between progress-bar updates (writes are larger:
#: ``chroma.insert_batch``).
EMBED_STEP = 256


def _embed_and_write(index: ScholiumIndex, nodes: list[TextNode], report: IngestReport) -> None:
    settings = index.settings
    store = index.chroma
    embed_s = write_s = 0.0
    size = min(settings.chroma.insert_batch, store.max_batch)
    with tqdm(
        total=len(nodes), desc="embedding chunks", unit="chunk", disable=not settings.progress or not nodes
    ) as bar:
        for part in _paper_batches(nodes, size):
            vectors: list[list[float]] = []
            for start in range(0, len(part), EMBED_STEP):  # the bar moves while a batch embeds
                clock = time.perf_counter()
                texts = [embed_text(n) for n in part[start : start + EMBED_STEP]]
                vectors.extend(index.embed_model.get_text_embedding_batch(texts))
                embed_s += time.perf_counter() - clock
                bar.update(len(texts))
            clock = time.perf_counter()
            # Only a paper longer than Chroma's limit makes a batch exceed it; ``add`` then
            # writes it in several parts (a re-run after a kill completes the paper).
            store.add([n.node_id for n in part], [n.text for n in part], [n.metadata for n in part], vectors)
            write_s += time.perf_counter() - clock
            report.chunks_embedded += len(part)
    close = getattr(index.embed_model, "close", None)
    if callable(close):  # embedding worker processes (if any) are not needed between ingests
        close()
    report.seconds["embed"] = embed_s
    report.seconds["write"] = write_s


def delete_papers(index: ScholiumIndex, paper_ids: list[str]) -> int:
    """Remove papers (all their chunks) from the index; returns the number of chunks removed."""
    with index_lock(index.settings.index_dir):
        wanted = set(paper_ids)
        ids = index.chroma.chunk_ids_of(wanted)
        if ids:
            index.begin_write(ids, "delete")
            index.chroma.delete(ids)
        index.papers.delete(wanted)
        index.publish_lexical()
    return len(ids)
