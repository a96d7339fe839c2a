"""Lexical backends side by side at scale (no Chroma, no embeddings): the lexical half of #14.

    python -m bench.lexical 1000000 --backends tantivy,bm25s     # build, +10k, queries; JSON out

For each backend and size: build the index from synthetic papers (bench/synth.py), add 10k more
papers (Tantivy: in place; bm25s: a rebuild, which is what its ingest does), then, in a fresh
process, open it (cold) and run the benchmark queries unfiltered and with filters (warm
p50/p95, k=40 as the hybrid retriever asks), and report peak RSS and bytes on disk.

Chunks are word windows (90 words, stride 70) of the synthetic abstracts: ~3.4 chunks per paper,
more than the real chunker's 2.7, so the index is larger than a real one of the same papers.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .common import (
    DEFAULT_WORK,
    ROOT,
    dir_bytes,
    emit,
    isolated_env,
    peak_rss_mb,
    queries,
    summarize_ms,
    write_json,
)

RESULTS = ROOT / "bench" / "results" / "lexical_backends.json"
ADD = 10_000
FILTERS: dict[str, dict[str, Any]] = {
    "category cs.CL": {"category": "cs.CL"},
    "author chen": {"author": "chen"},
    "year ≥ 2024": {"year_min": 2024},
}


def rows(records: list[dict[str, Any]]) -> Iterator[Any]:
    """Lexical rows (word windows) of synthetic arXiv records."""
    from rag.index.lexical import LexicalRow

    for record in records:
        words = record["abstract"].split()
        meta = {
            "paper_id": record["id"],
            "sources": "synth.jsonl",
            "year": int(record["update_date"][:4]),
            "categories": record["categories"],
            "authors": record["authors"],
        }
        for i, start in enumerate(range(0, max(len(words) - 20, 1), 70)):
            text = f"{record['title']}\n{' '.join(words[start : start + 90])}"
            yield LexicalRow(f"{record['id']}:h:{i}", text, meta)


def build(backend: str, size: int, root: Path) -> dict[str, Any]:
    """Build ``size`` papers, then add ``ADD`` more; timings and this process's peak RSS."""
    from rag.index.lexical import IncrementalLexicalIndex
    from rag.index.lexical import build as build_index

    from .synth import generate

    records = generate(size + ADD, seed=1)
    shutil.rmtree(root, ignore_errors=True)
    clock = time.perf_counter()
    index = build_index(backend, root, rows(records[:size]), "base")  # type: ignore[arg-type]
    out: dict[str, Any] = {"build_s": round(time.perf_counter() - clock, 1), "chunks": len(index)}
    clock = time.perf_counter()
    if isinstance(index, IncrementalLexicalIndex):
        index = index.apply(rows(records[size:]), [], "plus")
        out["add_how"] = "in place"
    else:
        index = build_index(backend, root, rows(records), "plus")  # type: ignore[arg-type]
        out["add_how"] = "rebuild"
    out["add_10k_s"] = round(time.perf_counter() - clock, 1)
    out["chunks_after_add"] = len(index)
    out["build_peak_rss_mb"] = peak_rss_mb()
    out["disk_mb"] = round(dir_bytes(root) / 2**20, 1)
    return out


def query(backend: str, root: Path, n: int) -> dict[str, Any]:
    """Cold open + warm queries in this (fresh) process."""
    from rag.index.filters import SearchFilters
    from rag.index.lexical import load

    clock = time.perf_counter()
    index = load(backend, root)  # type: ignore[arg-type]
    assert index is not None, f"no {backend} index under {root}"
    texts = queries(n)
    index.search(texts[0], 40)
    out: dict[str, Any] = {"cold_open_and_first_query_s": round(time.perf_counter() - clock, 3)}
    for text in texts[:10]:
        index.search(text, 40)
    timings = []
    for text in texts:
        clock = time.perf_counter()
        index.search(text, 40)
        timings.append(time.perf_counter() - clock)
    out["warm_ms"] = summarize_ms(timings)
    for label, spec in FILTERS.items():
        filters = SearchFilters(**spec)
        index.search(texts[0], 40, filters)  # a filter's first use (bm25s builds its mask)
        timings = []
        for text in texts[: n // 2]:
            clock = time.perf_counter()
            index.search(text, 40, filters)
            timings.append(time.perf_counter() - clock)
        out[f"filtered_ms[{label}]"] = summarize_ms(timings)
    out["query_peak_rss_mb"] = peak_rss_mb()
    return out


def main() -> None:
    """Command-line entry."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("size", type=int)
    parser.add_argument("--backends", default="tantivy,bm25s")
    parser.add_argument("--work", type=Path, default=DEFAULT_WORK / "lexical")
    parser.add_argument("--queries", type=int, default=120)
    parser.add_argument("--worker", choices=["build", "query"])
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    if args.worker:
        root = args.work / f"{args.backends}-{args.size}"
        emit(
            build(args.backends, args.size, root)
            if args.worker == "build"
            else query(args.backends, root, args.queries)
        )
        return
    results = _read(args.out)
    for backend in args.backends.split(","):
        got: dict[str, Any] = {"backend": backend, "papers": args.size}
        for worker in ("build", "query"):
            got.update(_run(worker, backend, args))
        results[f"{backend}-{args.size}"] = got
        print(got, flush=True)
        write_json(args.out, results)


def _run(worker: str, backend: str, args: argparse.Namespace) -> dict[str, Any]:
    import json

    command = [
        sys.executable,
        "-m",
        "bench.lexical",
        str(args.size),
        "--backends",
        backend,
        "--worker",
        worker,
    ]
    command += ["--work", str(args.work), "--queries", str(args.queries)]
    done = subprocess.run(command, env=isolated_env(), capture_output=True, text=True, check=True)
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def _read(path: Path) -> dict[str, Any]:
    import json

    try:
        return dict(json.loads(path.read_text()))
    except (OSError, ValueError):
        return {}


if __name__ == "__main__":
    main()
