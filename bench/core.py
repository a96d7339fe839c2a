"""Core benchmark: ingest time of the bundled corpus, cold start, warm search latency.

    python -m bench.core [--queries N] [--json PATH]

Runs in fresh temporary data folders; the cold start is measured in a new process.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import BASE_QUERIES

QUERIES = BASE_QUERIES

COLD = """
import time, sys
t0 = time.perf_counter()
from rag import Assistant, Settings
t1 = time.perf_counter()
a = Assistant(Settings(data_dir=sys.argv[1], progress=False), auto_ingest=False)
a.search("warm up the index")
t2 = time.perf_counter()
print(f"{t1 - t0:.3f} {t2 - t0:.3f}")
"""


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0..100), nearest-rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))]


def run(queries: int) -> dict[str, Any]:
    """Measure and return the numbers."""
    from rag import Assistant, Settings

    out: dict[str, Any] = {"machine": f"{platform.machine()}, {platform.processor() or 'cpu'}"}
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp), progress=False)
        clock = time.perf_counter()
        assistant = Assistant(settings, auto_ingest=False)
        report = assistant.ingest()
        out["ingest_s"] = round(time.perf_counter() - clock, 2)
        out["ingest_stages_s"] = {k: round(v, 2) for k, v in report.seconds.items()}
        out["papers"] = report.papers_seen
        out["chunks"] = report.chunks_total
        clock = time.perf_counter()
        again = Assistant(settings).ingest()
        out["reingest_s"] = round(time.perf_counter() - clock, 2)
        out["reingest_chunks_embedded"] = again.chunks_embedded

        colds = []
        for _ in range(3):
            got = subprocess.run(
                [sys.executable, "-c", COLD, tmp], capture_output=True, text=True, check=True
            )
            imp, total = map(float, got.stdout.split())
            colds.append((imp, total))
        out["cold_start_import_s"] = round(min(c[0] for c in colds), 2)
        out["cold_start_first_search_s"] = round(min(c[1] for c in colds), 2)

        for mode in ("hybrid", "dense", "lexical"):
            for q in QUERIES:  # warm-up
                assistant.search(q, mode=mode)  # type: ignore[arg-type]
            latencies = []
            for i in range(queries):
                clock = time.perf_counter()
                assistant.search(QUERIES[i % len(QUERIES)] + f" {i}", mode=mode)  # type: ignore[arg-type]
                latencies.append((time.perf_counter() - clock) * 1000)
            out[f"search_{mode}_ms"] = {
                "p50": round(statistics.median(latencies), 1),
                "p95": round(percentile(latencies, 95), 1),
                "p99": round(percentile(latencies, 99), 1),
            }
    return out


def main() -> None:
    """Command-line entry."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--json", type=Path, default=Path("bench/results/core.json"))
    args = parser.parse_args()
    result = run(args.queries)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2))
    width = max(len(k) for k in result)
    for key, value in result.items():
        print(f"{key:<{width}}  {value}")


if __name__ == "__main__":
    main()
