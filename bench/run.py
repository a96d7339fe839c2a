"""Scaling benchmarks, one command: ingest, query latency, cold start, Chroma server vs
embedded, concurrency, the llama-index default side by side, profiles.

    python -m bench.run                      # everything (builds missing indexes first)
    python -m bench.run --quick              # fewer queries, smaller samples
    python -m bench.run --sizes 260,10000    # some sizes only

Prints a summary table and writes bench/results/scaling.json, bench/results/summary.md and
bench/results/latency_vs_size.png (plus cProfile text files). See docs/scaling.md.

What is real and what is not (also in every output):
* 260 papers = the bundled corpus, embedded with the real model (all-MiniLM-L6-v2, NumPy): every
  number is measured end to end.
* 10k / 100k papers = a SYNTHETIC corpus (bench/synth.py) embedded with a STAND-IN embedding
  (bench/standin.py). Parse, chunk, Chroma write, BM25, search and fusion costs are measured;
  the model's ingest cost is EXTRAPOLATED from the real model's rate on a sample of chunks. At
  query time the real model runs on every query (its vector is discarded), so query latencies
  include the real query-embedding cost.

Indexes are cached under $SCHOLIUM_BENCH_DIR (default /tmp/scholium-scaling); building the
100k index the first time takes a long while (ingest is done in 10k-paper steps).
Ingest workers run at nice +10; latency workers at the caller's priority.
"""

from __future__ import annotations

import argparse
import contextlib
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .build import BUNDLED, build, corpus_file, index_dir, step_files
from .common import DEFAULT_WORK, RESULTS, machine, proc_rss_mb, read_manifest, run_worker, write_json

SIZES = (BUNDLED, 10_000, 100_000)


def log(message: str) -> None:
    """Progress on stdout."""
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


@contextlib.contextmanager
def stage(name: str, timings: dict[str, float]) -> Iterator[None]:
    """Log and time a part of the run."""
    log(f"{name} ...")
    clock = time.perf_counter()
    try:
        yield
    finally:
        timings[name] = round(time.perf_counter() - clock, 1)
        log(f"{name} done in {timings[name]:.0f} s")


def ingest_summary(manifest: dict[str, Any], embed_rate: dict[str, Any] | None) -> dict[str, Any]:
    """One ingest record per size: totals over the build steps, the per-step records, and for
    stand-in indexes the model cost extrapolated from the measured real rate."""
    steps: list[dict[str, Any]] = manifest.get("steps", [])
    stages: dict[str, float] = {}
    for step in steps:
        for key, value in step["stages_s"].items():
            stages[key] = stages.get(key, 0.0) + value
    wall = sum(s["wall_s"] for s in steps)
    chunks = sum(s["chunks_embedded"] for s in steps)
    papers = sum(s["papers_seen"] for s in steps)
    out: dict[str, Any] = {
        "embed": manifest.get("embed"),
        "papers": manifest.get("papers"),
        "chunks": manifest.get("chunks"),
        "chunks_per_paper": round(chunks / papers, 3) if papers else None,
        "steps": len(steps),
        "wall_s": round(wall, 1),
        "cpu_s": round(sum(s["cpu_s"] for s in steps), 1),
        "stages_s": {k: round(v, 1) for k, v in stages.items()},
        "peak_rss_mb": max((s["peak_rss_mb"] for s in steps), default=None),
        "disk_bytes": steps[-1]["disk_bytes"] if steps else {},
        "per_step": [
            {
                "chunks_before": s["chunks_before"],
                "papers": s["papers_seen"],
                "wall_s": s["wall_s"],
                "cpu_s": s["cpu_s"],
                "stages_s": s["stages_s"],
                "peak_rss_mb": s["peak_rss_mb"],
                "loadavg": s["machine"]["loadavg"],
            }
            for s in steps
        ],
    }
    if out["chunks"]:
        disk = out["disk_bytes"]
        out["disk_mb_per_1k_papers"] = round(disk.get("total", 0) / 1e6 / (out["papers"] / 1000), 2)
        out["disk_bytes_per_chunk"] = {k: round(v / out["chunks"]) for k, v in disk.items()}
    if manifest.get("embed") == "real":
        out["embed_measured"] = True
        out["papers_per_s"] = round(papers / wall, 2) if wall else None
        out["chunks_per_s"] = round(chunks / wall, 2) if wall else None
    elif embed_rate:
        rate = embed_rate["chunks_per_s"]
        projected = chunks / rate
        standin = stages.get("embed", 0.0)
        out["embed_measured"] = False
        out["embed_standin_s"] = round(standin, 1)
        out["embed_extrapolated_s"] = round(projected, 1)
        out["embed_extrapolated_idle_core_s"] = round(chunks / embed_rate["chunks_per_cpu_s"], 1)
        out["wall_s_with_real_model_extrapolated"] = round(wall - standin + projected, 1)
        out["papers_per_s_extrapolated"] = round(papers / (wall - standin + projected), 3)
        out["chunks_per_s_extrapolated"] = round(chunks / (wall - standin + projected), 3)
        out["papers_per_s_without_model"] = round(papers / (wall - standin), 2)
        out["chunks_per_s_without_model"] = round(chunks / (wall - standin), 2)
    return out


def available_mb() -> float:
    """MemAvailable from /proc/meminfo (MiB); 4 GiB if unknown."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 4096.0


def median_cold(data: Path, runs: int) -> dict[str, Any]:
    """``runs`` cold starts in fresh processes; the median one, plus all totals."""
    got = [run_worker("bench.query", ["cold", "--data", str(data)]) for _ in range(runs)]
    got.sort(key=lambda r: r["cold_start_s"])
    best = dict(got[len(got) // 2])
    best["all_cold_start_s"] = [r["cold_start_s"] for r in got]
    return best


def main() -> None:
    """Command-line entry."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)))
    parser.add_argument("--work", type=Path, default=DEFAULT_WORK)
    parser.add_argument("--queries", type=int, default=100, help="measured queries per size and mode")
    parser.add_argument("--embed-sample", type=int, default=384, help="chunks for the real model's rate")
    parser.add_argument("--cold-runs", type=int, default=3)
    parser.add_argument("--per-client", type=int, default=16)
    parser.add_argument("--clients", default="1,2,4,8", help="threads sharing one Assistant")
    parser.add_argument("--process-clients", default="1,2,4", help="client processes (Chroma server)")
    parser.add_argument("--quick", action="store_true", help="fewer queries and samples")
    parser.add_argument(
        "--no-build",
        action="store_true",
        help="only measure synthetic indexes already built (the bundled corpus is always re-ingested: "
        "that is the real end-to-end ingest measurement)",
    )
    parser.add_argument("--experiments", action="store_true", help="also run bench.experiments")
    parser.add_argument(
        "--small-update-size",
        type=int,
        default=10_000,
        help="index to add 10 papers to (and delete them from) to time a small ingest; 0: skip "
        "(at 100k it takes several minutes)",
    )
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    if args.quick:
        args.queries, args.embed_sample, args.cold_runs, args.per_client = 40, 192, 1, 8
    sizes = sorted(int(s) for s in args.sizes.split(","))
    started = time.perf_counter()
    timings: dict[str, float] = {}
    results: dict[str, Any] = {
        "started": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "machine": machine(),
        "args": {k: str(v) for k, v in vars(args).items()},
        "sizes": {},
        "notes": {
            "real": "260 papers: bundled corpus, real embedding model, measured end to end",
            "synthetic": "10k/100k papers: synthetic corpus (bench/synth.py) with a stand-in "
            "embedding (bench/standin.py); the model's ingest cost is extrapolated from the "
            "measured real rate; query latencies include the real model's query embedding",
            "wall_vs_cpu": "the machine is shared: wall times include waiting for a core; "
            "'cpu' figures are process CPU time",
        },
    }
    args.out.mkdir(parents=True, exist_ok=True)
    synthetic = [s for s in sizes if s != BUNDLED]

    with stage("real embedding rate on a sample", timings):
        sample_corpus = corpus_file(args.work, max(synthetic or [10_000]))
        results["embed_rate"] = run_worker(
            "bench.ingest", ["--embed-sample", str(args.embed_sample), str(sample_corpus)]
        )

    for size in sizes:
        data = index_dir(args.work, size)
        manifest = read_manifest(data)
        if size == BUNDLED or not (manifest and manifest.get("complete")):
            if args.no_build and size != BUNDLED:
                log(f"index-{size} is not built (--no-build): skipped")
                continue
            with stage(f"build index-{size}", timings):
                manifest = build(size, args.work, step=None if size == BUNDLED else 10_000)
        assert manifest is not None
        entry: dict[str, Any] = {"ingest": ingest_summary(manifest, results["embed_rate"])}
        results["sizes"][str(size)] = entry
        with stage(f"warm queries index-{size}", timings):
            entry["query"] = run_worker(
                "bench.query", ["warm", "--data", str(data), "--queries", str(args.queries), "--llama-index"]
            )
        with stage(f"cold starts index-{size}", timings):
            entry["cold"] = median_cold(data, args.cold_runs)
        write_json(args.out / "scaling.json", results)

    largest = max(int(s) for s in results["sizes"])
    big = index_dir(args.work, largest)
    with stage(f"profile search index-{largest}", timings):
        out = args.out / f"profile_search_{largest}.txt"
        run_worker("bench.query", ["profile", "--data", str(big), "--out", str(out), "--queries", "60"])
        results["profiles"] = {"search": out.name}
    if synthetic:
        with stage("profile ingest (stand-in, 2k synthetic papers, fresh index)", timings):
            import shutil

            part = step_files(args.work, max(synthetic), 10_000)[0]
            lines = part.read_text(encoding="utf-8").splitlines(keepends=True)[:2000]
            scratch = args.work / "profile-ingest"
            shutil.rmtree(scratch, ignore_errors=True)
            scratch.mkdir(parents=True)
            (scratch / "papers.jsonl").write_text("".join(lines), encoding="utf-8")
            out = args.out / "profile_ingest_2k_standin.txt"
            results["profile_ingest_standin"] = run_worker(
                "bench.ingest",
                [
                    "--data",
                    str(scratch / "index"),
                    "--embed",
                    "standin",
                    "--profile",
                    str(out),
                    str(scratch / "papers.jsonl"),
                ],
            )
            results["profiles"]["ingest_standin"] = out.name
            shutil.rmtree(scratch, ignore_errors=True)

    levels = args.clients
    with stage(f"concurrency, embedded Chroma, threads, index-{largest}", timings):
        results["concurrency"] = {
            "embedded_threads": run_worker(
                "bench.concurrency",
                ["--data", str(big), "--clients", levels, "--per-client", str(args.per_client)],
            )
        }
    if BUNDLED in sizes and largest != BUNDLED:
        with stage("concurrency, embedded, extractive answers, index-260", timings):
            results["concurrency"]["extractive_260_threads"] = run_worker(
                "bench.concurrency",
                [
                    "--data",
                    str(index_dir(args.work, BUNDLED)),
                    "--clients",
                    levels,
                    "--per-client",
                    str(max(4, args.per_client // 2)),
                    "--extractive",
                    "--pool",
                    "24",
                ],
            )
    with stage(f"Chroma server (chroma run) vs embedded, index-{largest}", timings):
        from tests.support.chroma import running

        with running(big / "chroma") as server:
            server_result: dict[str, Any] = {"startup_s": round(server.startup_s, 2), "url": server.url}
            server_result["query"] = run_worker(
                "bench.query",
                [
                    "warm",
                    "--data",
                    str(big),
                    "--url",
                    server.url,
                    "--queries",
                    str(args.queries),
                    "--modes",
                    "hybrid,dense",
                ],
            )
            server_result["cold"] = run_worker(
                "bench.query", ["cold", "--data", str(big), "--url", server.url]
            )
            # Every client process holds its own BM25 index, chunk list and model: cap N so that
            # the clients fit in half of the memory available now.
            per_process = float(results["sizes"][str(largest)]["query"]["peak_rss_mb"])
            fits = max(1, int(available_mb() * 0.5 // per_process))
            process_levels = [n for n in map(int, args.process_clients.split(",")) if n <= fits] or [1]
            results["concurrency_process_cap"] = {"per_process_mb": per_process, "max_clients": fits}
            results["concurrency"]["server_processes"] = run_worker(
                "bench.concurrency",
                [
                    "--data",
                    str(big),
                    "--url",
                    server.url,
                    "--clients",
                    ",".join(map(str, process_levels)),
                    "--per-client",
                    str(args.per_client),
                    "--how",
                    "processes",
                ],
            )
            results["concurrency"]["server_threads"] = run_worker(
                "bench.concurrency",
                [
                    "--data",
                    str(big),
                    "--url",
                    server.url,
                    "--clients",
                    levels,
                    "--per-client",
                    str(args.per_client),
                ],
            )
            server_result["server_memory_mb"] = proc_rss_mb(server.proc.pid) if server.proc else {}
        server_result["size"] = largest
        results["server"] = server_result
    small = args.small_update_size
    if small and str(small) in results["sizes"]:
        with stage(f"small incremental ingest (+10 papers, then delete them), index-{small}", timings):
            results["small_update"] = run_worker(
                "bench.ingest",
                ["--data", str(index_dir(args.work, small)), "--small-update", "10"],
                timeout=3600,
            )
            results["small_update"]["size"] = small
    if args.experiments:
        with stage("optimization experiments", timings):
            results["experiments"] = run_worker(
                "bench.experiments", ["--json", str(args.out / "experiments.json")], timeout=3600
            )

    results["timings_s"] = timings
    results["runtime_s"] = round(time.perf_counter() - started, 1)
    results["machine_end"] = machine()
    write_json(args.out / "scaling.json", results)
    from .report import write_report

    table = write_report(results, args.out)
    print(table)
    log(f"total runtime {results['runtime_s']:.0f} s; results in {args.out}")


if __name__ == "__main__":
    main()
