"""Ingest benchmark worker (one fresh process per measurement, so peak RSS is its own).

    python -m bench.ingest --data DIR --embed real|standin CORPUS...   # ingest, print JSON
    python -m bench.ingest --embed-sample 1024 CORPUS...               # real model rate only
    python -m bench.ingest --data DIR --small-update 10                # add, then delete, 10 papers

An ingest reports Scholium's own stage timings (``IngestReport.seconds``: parse, chunk, embed,
write, lexical), the rest of the wall time as ``other`` (reading existing chunk metadata, the
paper store, the already-present check), CPU seconds, peak RSS and bytes on disk afterwards.
With ``--embed standin`` the embed stage is the stand-in's (see bench/standin.py), not the model's.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import time
from pathlib import Path
from typing import Any

from .common import MANIFEST, cpu_seconds, disk_usage, emit, machine, peak_rss_mb, read_manifest, write_json


def run_ingest(data_dir: Path, corpus: list[Path], embed: str, profile: Path | None = None) -> dict[str, Any]:
    """Ingest ``corpus`` into the index at ``data_dir`` and measure it."""
    from rag.index.ingest import ingest
    from rag.index.store import ScholiumIndex

    from .common import settings_for
    from .standin import StandInEmbedding

    manifest = read_manifest(data_dir) or {"embed": embed, "steps": []}
    if manifest["embed"] != embed:
        raise SystemExit(f"{data_dir} was built with embed={manifest['embed']}, not {embed}")
    settings = settings_for(data_dir)
    index = ScholiumIndex(settings, embed_model=StandInEmbedding() if embed == "standin" else None)
    if embed == "real":
        clock = time.perf_counter()
        index.embed_model  # noqa: B018  (load the model outside the timed ingest, as a server would)
        model_load_s = time.perf_counter() - clock
    else:
        model_load_s = 0.0
    before = index.chroma.count()
    cpu = cpu_seconds()
    clock = time.perf_counter()
    profiler = cProfile.Profile() if profile else None
    if profiler:
        profiler.enable()
    report = ingest(index, corpus)
    if profiler:
        profiler.disable()
    wall = time.perf_counter() - clock
    cpu = cpu_seconds() - cpu
    stages = {k: round(v, 3) for k, v in report.seconds.items()}
    stages["other"] = round(wall - sum(report.seconds.values()), 3)
    result: dict[str, Any] = {
        "embed": embed,
        "corpus": [str(p) for p in corpus],
        "chunks_before": before,
        "papers_seen": report.papers_seen,
        "papers_new": report.papers_new,
        "chunks_embedded": report.chunks_embedded,
        "chunks_total": report.chunks_total,
        "papers_total": index.papers.count(),
        "wall_s": round(wall, 3),
        "cpu_s": round(cpu, 3),
        "model_load_s": round(model_load_s, 3),
        "stages_s": stages,
        "papers_per_s": round(report.papers_seen / wall, 2) if wall else None,
        "chunks_per_s": round(report.chunks_embedded / wall, 2) if wall else None,
        "peak_rss_mb": peak_rss_mb(),
        "disk_bytes": disk_usage(data_dir),
        "warnings": len(report.warnings),
        "machine": machine(),
        "finished": time.strftime("%Y-%m-%dT%H:%M:%S"),
    }
    if profiler and profile:
        write_profile(profiler, profile, f"ingest of {', '.join(map(str, corpus))} (embed={embed})")
    manifest["steps"].append(result)
    manifest["papers"] = result["papers_total"]
    manifest["chunks"] = result["chunks_total"]
    write_json(data_dir / MANIFEST, manifest)
    return result


def embed_sample(corpus: list[Path], n_chunks: int, n_queries: int = 50) -> dict[str, Any]:
    """The real model's throughput on ``n_chunks`` chunks of ``corpus`` (as ingest embeds them:
    ``get_text_embedding_batch`` with the configured batch size and threads) and its latency on
    single queries."""
    from rag.corpus import load_corpus
    from rag.embeddings import build_embed_model
    from rag.index.chunking import Chunker, embed_text

    from .common import queries, settings_for, summarize_ms

    settings = settings_for(Path("/nonexistent-bench-dir"))
    papers = load_corpus(corpus).papers
    step = max(1, len(papers) // max(1, n_chunks // 2))  # spread the sample over the corpus
    nodes = Chunker(settings.chunk).chunk(papers[::step])[:n_chunks]
    texts = [embed_text(n) for n in nodes]
    clock = time.perf_counter()
    # One process, one thread: the per-core rate the extrapolations use (ingest itself spreads
    # large batches over worker processes, measured below as ``pool_chunks_per_s``).
    model = build_embed_model(settings.embed.model_copy(update={"workers": 1}))
    load_s = time.perf_counter() - clock
    model.get_text_embedding_batch(texts[:32])  # warm-up
    cpu = cpu_seconds()
    clock = time.perf_counter()
    model.get_text_embedding_batch(texts)
    wall = time.perf_counter() - clock
    cpu = cpu_seconds() - cpu
    pooled = build_embed_model(settings.embed)
    clock = time.perf_counter()
    pooled.get_text_embedding_batch(texts)  # includes starting the worker processes
    pool_wall = time.perf_counter() - clock
    getattr(pooled, "close", lambda: None)()
    latencies = []
    for q in queries(n_queries):
        clock = time.perf_counter()
        model.get_query_embedding(q)
        latencies.append(time.perf_counter() - clock)
    return {
        "model": settings.embed.model,
        "batch_size": settings.embed.batch_size,
        "threads": settings.embed.threads,
        "chunks": len(texts),
        "mean_chars": round(sum(map(len, texts)) / max(1, len(texts)), 1),
        "wall_s": round(wall, 3),
        "cpu_s": round(cpu, 3),
        "chunks_per_s": round(len(texts) / wall, 2),
        "chunks_per_cpu_s": round(len(texts) / cpu, 2) if cpu else None,
        "pool_workers": getattr(pooled, "workers", 1),
        "pool_chunks_per_s": round(len(texts) / pool_wall, 2),
        "model_load_s": round(load_s, 3),
        "query_embed_ms": summarize_ms(latencies),
        "peak_rss_mb": peak_rss_mb(),
        "machine": machine(),
    }


def small_update(data_dir: Path, n: int) -> dict[str, Any]:
    """The cost of an incremental ingest into a big index: add ``n`` new synthetic papers, then
    remove them again (``delete_papers``; the index ends with the same papers it started with).
    With the Tantivy lexical backend both touch only those papers' chunks; with bm25s each
    rebuilds BM25 over the whole collection."""
    import json
    import tempfile

    from rag.index.ingest import delete_papers, ingest
    from rag.index.store import ScholiumIndex

    from .common import settings_for
    from .standin import embed_model_for
    from .synth import generate

    manifest = read_manifest(data_dir)
    if manifest is None:
        raise SystemExit(f"{data_dir} is not a benchmark index")
    settings = settings_for(data_dir)
    model = embed_model_for(str(manifest["embed"]), settings)
    index = ScholiumIndex(settings, embed_model=model)
    records = generate(n, seed=424242)
    for i, record in enumerate(records):
        record["title"] = f"Addendum {i}: {record['title']}"  # never an existing title
    out: dict[str, Any] = {"papers_added": n, "chunks_before": index.chroma.count()}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "addendum.jsonl"
        path.write_text("\n".join(json.dumps(r) for r in records))
        clock = time.perf_counter()
        report = ingest(index, [path])
        out["add_wall_s"] = round(time.perf_counter() - clock, 2)
        out["add_stages_s"] = {k: round(v, 2) for k, v in report.seconds.items()}
        out["add_stages_s"]["other"] = round(out["add_wall_s"] - sum(report.seconds.values()), 2)
    from rag.corpus import normalize_title, paper_id

    ids = [paper_id(r["title"]) for r in records]
    assert len({normalize_title(r["title"]) for r in records}) == n
    clock = time.perf_counter()
    removed = delete_papers(index, ids)
    out["delete_wall_s"] = round(time.perf_counter() - clock, 2)
    out["chunks_removed"] = removed
    out["chunks_after"] = index.chroma.count()
    out["peak_rss_mb"] = peak_rss_mb()
    out["machine"] = machine()
    return out


def write_profile(profiler: cProfile.Profile, path: Path, title: str, top: int = 35) -> None:
    """The top functions by cumulative and by own time, as text."""
    import io

    path.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.StringIO()
    buffer.write(f"# cProfile: {title}\n\n## by cumulative time\n")
    stats = pstats.Stats(profiler, stream=buffer)
    stats.strip_dirs().sort_stats("cumulative").print_stats(top)
    buffer.write("\n## by own (total) time\n")
    stats.sort_stats("tottime").print_stats(top)
    path.write_text(buffer.getvalue())


def main() -> None:
    """Command-line entry."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("corpus", type=Path, nargs="*")
    parser.add_argument("--data", type=Path)
    parser.add_argument("--embed", choices=["real", "standin"], default="real")
    parser.add_argument("--embed-sample", type=int, default=0, help="only measure the real model's rate")
    parser.add_argument("--small-update", type=int, default=0, help="add then delete N papers in --data")
    parser.add_argument("--profile", type=Path)
    args = parser.parse_args()
    # Heavy work: be kind to a shared machine (nice +10, unless already nicer).
    os.nice(max(0, int(os.environ.get("SCHOLIUM_BENCH_NICE", "10")) - os.nice(0)))
    if args.embed_sample:
        emit(embed_sample(args.corpus, args.embed_sample))
    elif args.small_update:
        emit(small_update(args.data, args.small_update))
    else:
        if args.data is None:
            parser.error("--data is required")
        emit(run_ingest(args.data, args.corpus, args.embed, args.profile))


if __name__ == "__main__":
    main()
