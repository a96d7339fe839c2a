"""Concurrency worker: N clients doing retrieval at once; throughput and tail latency vs N.

    python -m bench.concurrency --data DIR [--url URL] --clients 1,2,4,8 --per-client 25 \
        [--how threads|processes] [--extractive]

``threads``: one shared ``Assistant`` in this process, N threads (how the UI serves requests).
``processes``: N separate processes, each with its own ``Assistant`` (needs a Chroma server:
``--url``; the embedded PersistentClient is not safe across processes), started and warmed up
first, then released together by a barrier. ``--extractive`` measures
``assistant.ask(q, mode="extractive")`` (retrieval + evidence + extractive answer) instead.

Extractive answers embed every evidence sentence with the model and cache the vectors (abstract
sentences recur), so a question whose papers were never seen costs seconds and a repeated one
tens of milliseconds. The extractive run therefore uses a pool of ``--pool`` questions: a first
pass over the pool (one client, cache filling: ``cache_cold``) and then the concurrency levels
over the same pool (cache warm, the steady state of a long-running server).
"""

from __future__ import annotations

import argparse
import multiprocessing
import threading
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from .common import emit, machine, peak_rss_mb, queries, summarize_ms


def _one(assistant: Any, query: str, extractive: bool, stages: dict[str, list[float]]) -> float:
    clock = time.perf_counter()
    if extractive:
        assistant.ask(query, mode="extractive")
    else:
        timings: dict[str, float] = {}
        assistant.search(query, timings=timings)
        for key, value in timings.items():
            stages[key].append(value)
    return time.perf_counter() - clock


def _client_process(
    data: str,
    url: str | None,
    offset: int,
    per_client: int,
    extractive: bool,
    pool: int,
    barrier: Any,
    results: Any,
) -> None:
    from .query import open_assistant

    qs = queries(pool)
    assistant = open_assistant(Path(data), url)
    scratch: dict[str, list[float]] = defaultdict(list)
    for q in qs[:3]:
        _one(assistant, q, extractive, scratch)
    stages: dict[str, list[float]] = defaultdict(list)
    barrier.wait()
    latencies = [_one(assistant, qs[(offset + i) % len(qs)], extractive, stages) for i in range(per_client)]
    results.put((latencies, dict(stages)))


def run_level(
    data: Path,
    url: str | None,
    n: int,
    per_client: int,
    how: str,
    extractive: bool,
    pool: int,
    shared: Any = None,
) -> dict[str, Any]:
    """One concurrency level: ``n`` clients × ``per_client`` queries each."""
    qs = queries(pool)
    latencies: list[float] = []
    stages: dict[str, list[float]] = defaultdict(list)
    lock = threading.Lock()
    if how == "threads":
        barrier = threading.Barrier(n + 1)

        def client(offset: int) -> None:
            local: dict[str, list[float]] = defaultdict(list)
            barrier.wait()
            got = [_one(shared, qs[(offset + i) % len(qs)], extractive, local) for i in range(per_client)]
            with lock:
                latencies.extend(got)
                for key, values in local.items():
                    stages[key].extend(values)

        threads = [threading.Thread(target=client, args=(37 * c,)) for c in range(n)]
        for t in threads:
            t.start()
        barrier.wait()
        clock = time.perf_counter()
        for t in threads:
            t.join()
        wall = time.perf_counter() - clock
    else:
        ctx = multiprocessing.get_context("spawn")
        mbarrier = ctx.Barrier(n + 1)
        results = ctx.Queue()
        procs = [
            ctx.Process(
                target=_client_process,
                args=(str(data), url, 37 * c, per_client, extractive, pool, mbarrier, results),
            )
            for c in range(n)
        ]
        for p in procs:
            p.start()
        mbarrier.wait(timeout=600)
        clock = time.perf_counter()
        for _ in procs:
            got, got_stages = results.get(timeout=1200)
            latencies.extend(got)
            for key, values in got_stages.items():
                stages[key].extend(values)
        wall = time.perf_counter() - clock
        for p in procs:
            p.join()
    return {
        "clients": n,
        "queries": len(latencies),
        "wall_s": round(wall, 3),
        "throughput_qps": round(len(latencies) / wall, 2),
        "latency_ms": summarize_ms(latencies),
        "stages_p50_ms": {k: summarize_ms(v)["p50"] for k, v in stages.items()},
        "stages_p95_ms": {k: summarize_ms(v)["p95"] for k, v in stages.items()},
    }


def run(
    data: Path, url: str | None, levels: list[int], per_client: int, how: str, extractive: bool, pool: int
) -> dict[str, Any]:
    """Every level, in order; threads share one warmed-up Assistant."""
    if how == "processes" and not url:
        raise SystemExit("--how processes needs --url (a Chroma server)")
    shared = None
    cold: list[float] = []
    if how == "threads":
        from .query import open_assistant

        shared = open_assistant(data, url)
        scratch: dict[str, list[float]] = defaultdict(list)
        warm = queries(pool) if extractive else queries(10)
        cold = [_one(shared, q, extractive, scratch) for q in warm]
    out: dict[str, Any] = {
        "how": how,
        "chroma": "server" if url else "embedded",
        "what": "ask(mode=extractive)" if extractive else "search (hybrid, k=5)",
        "per_client": per_client,
        "pool": pool,
        "levels": [run_level(data, url, n, per_client, how, extractive, pool, shared) for n in levels],
        "machine": machine(),
    }
    if extractive and cold:
        out["cache_cold"] = summarize_ms(cold)
    out["peak_rss_mb"] = peak_rss_mb()
    return out


def main() -> None:
    """Command-line entry."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--url")
    parser.add_argument("--clients", default="1,2,4,8")
    parser.add_argument("--per-client", type=int, default=25)
    parser.add_argument("--how", choices=["threads", "processes"], default="threads")
    parser.add_argument("--extractive", action="store_true")
    parser.add_argument("--pool", type=int, help="distinct queries (default 200; 40 with --extractive)")
    args = parser.parse_args()
    levels = [int(x) for x in args.clients.split(",")]
    pool = args.pool or (40 if args.extractive else 200)
    emit(run(args.data, args.url, levels, args.per_client, args.how, args.extractive, pool))


if __name__ == "__main__":
    main()
