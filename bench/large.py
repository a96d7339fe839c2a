"""The #14 measurements on one large, already built index (bench/build.py), embedded and with
a ``chroma run`` server:

    python -m bench.build 500000 --step 50000        # resumable; stop it at any step
    python -m bench.large --data /tmp/scholium-scaling/index-500000

Measures: opening it (a reader repairs the lexical index if a build was stopped mid-step),
adding 10k papers and deleting them again (the stand-in embedding: the embedding time of a
real model comes on top), cold start and warm hybrid / filtered search with the query
process's peak RSS (embedded, then through the server), bytes on disk per 1k papers, and the
llama-index default retriever on the same collection. Writes ``bench/results/large.json``
(one entry per index size) and prints it.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

from .common import RESULTS, disk_usage, emit, read_manifest, run_worker, write_json

OUT = RESULTS / "large.json"


def open_and_repair(data: Path) -> dict[str, Any]:
    """Worker: open the index as a reader does; time the lexical check/repair."""
    from .query import open_assistant

    clock = time.perf_counter()
    assistant = open_assistant(data, None)
    index = assistant.index
    pending = (index.settings.index_dir / "PENDING.json").exists()
    lexical = index.lexical
    return {
        "journal_found": pending,
        "open_and_lexical_s": round(time.perf_counter() - clock, 2),
        "lexical_chunks": len(lexical),
        "chroma_chunks": index.chroma.count(),
        "papers": len({c.split(":", 1)[0] for c in index.chroma.chunk_ids()}),
    }


def main() -> None:
    """Command-line entry."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--add", type=int, default=10_000, help="papers to add and delete again")
    parser.add_argument("--cold-runs", type=int, default=3)
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        emit(open_and_repair(args.data))
        return
    from tests.support.chroma import running

    manifest = read_manifest(args.data) or {}
    out: dict[str, Any] = {
        "build_steps": [
            {k: s.get(k) for k in ("chunks_before", "papers_new", "wall_s", "stages_s", "peak_rss_mb")}
            for s in manifest.get("steps", [])
        ]
    }
    out["build_wall_s"] = round(sum(float(s.get("wall_s", 0)) for s in manifest.get("steps", [])), 1)
    out["open"] = run_worker("bench.large", ["--data", str(args.data), "--worker"], timeout=7200)
    print(out["open"], flush=True)
    out["add_and_delete"] = run_worker(
        "bench.ingest", ["--data", str(args.data), "--small-update", str(args.add)], timeout=7200
    )
    print(out["add_and_delete"], flush=True)
    cold = [run_worker("bench.query", ["cold", "--data", str(args.data)]) for _ in range(args.cold_runs)]
    out["cold_embedded"] = sorted(cold, key=lambda c: float(c.get("cold_start_s", 0)))[len(cold) // 2]
    out["warm_embedded"] = run_worker(
        "bench.query", ["warm", "--data", str(args.data), "--queries", str(args.queries), "--llama-index"]
    )
    print(out["warm_embedded"].get("hybrid", out["warm_embedded"]), flush=True)
    with running(args.data / "chroma", timeout_s=600) as server:
        out["server_startup_s"] = round(server.startup_s, 2)
        cold = [
            run_worker("bench.query", ["cold", "--data", str(args.data), "--url", server.url])
            for _ in range(args.cold_runs)
        ]
        out["cold_server"] = sorted(cold, key=lambda c: float(c.get("cold_start_s", 0)))[len(cold) // 2]
        out["warm_server"] = run_worker(
            "bench.query",
            ["warm", "--data", str(args.data), "--url", server.url, "--queries", str(args.queries)],
        )
    usage = disk_usage(args.data)
    papers = int(out["open"]["papers"])
    out["disk_bytes"] = usage
    out["disk_mb_per_1k_papers"] = round(usage["total"] / 2**20 / (papers / 1000), 1)
    results: dict[str, Any] = {}
    if args.out.exists():
        results = json.loads(args.out.read_text())
    results[str(papers)] = out
    write_json(args.out, results)
    emit(out)


if __name__ == "__main__":
    main()
