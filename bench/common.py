"""Shared helpers for the scaling benchmarks: settings, queries, statistics, memory, disk, workers."""

from __future__ import annotations

import contextlib
import json
import os
import platform
import resource
import subprocess
import sys
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
DEFAULT_WORK = Path(os.environ.get("SCHOLIUM_BENCH_DIR", "/tmp/scholium-scaling"))
MANIFEST = "bench-manifest.json"

# Warm-up and measured queries: the core benchmark's hand-written ones plus short title-style
# queries (see ``queries()``), all answerable from the real and the synthetic corpora.
BASE_QUERIES = [
    "normalization mixing pre-LN and post-LN across depth",
    "complex-valued network for echo cancellation",
    "self-supervised joint embedding predictive architecture",
    "neural architecture search with hypernetworks",
    "pruning and quantization jointly",
    "spiking neural networks with learnable delays",
    "grokking lazy to rich dynamics",
    "memory efficient class incremental learning",
    "distilling hypergraph networks into MLPs",
    "KV cache eviction for long context inference",
]


def queries(n: int = 120) -> list[str]:
    """``n`` distinct, deterministic queries: the base ones, then the first 4-8 words of real
    titles (lower-cased, as people type them)."""
    from rag.corpus import load_corpus
    from rag.settings import BUNDLED_CORPUS

    out = list(BASE_QUERIES)
    papers = load_corpus([BUNDLED_CORPUS]).papers
    for i, paper in enumerate(papers[::2]):
        words = paper.title.replace(":", " ").split()
        out.append(" ".join(words[: 4 + i % 5]).lower())
    out = list(dict.fromkeys(out))
    while len(out) < n:  # more than the corpus offers: repeat with a suffix
        out.append(f"{out[len(out) % len(BASE_QUERIES)]} {len(out)}")
    return out[:n]


def isolated_env() -> dict[str, str]:
    """Environment for worker processes: no user SCHOLIUM_* settings, no telemetry, quiet."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCHOLIUM_")}
    env.update(ANONYMIZED_TELEMETRY="False", TOKENIZERS_PARALLELISM="false", HF_HUB_OFFLINE="1")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    return env


def settings_for(data_dir: Path, chroma_url: str | None = None, **over: Any) -> Any:
    """Scholium settings for a benchmark index (explicit values: no config file or env leaks)."""
    from rag import Settings
    from rag.settings import ChromaSettings

    chroma = ChromaSettings(url=chroma_url)
    return Settings(data_dir=data_dir, progress=False, log_level="ERROR", chroma=chroma, **over)


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0..100), nearest-rank."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))]


def summarize_ms(seconds: Iterable[float]) -> dict[str, float]:
    """p50/p95/p99/mean/max in milliseconds of a list of durations in seconds."""
    ms = [s * 1000 for s in seconds]
    if not ms:
        return {}
    return {
        "n": len(ms),
        "p50": round(percentile(ms, 50), 2),
        "p95": round(percentile(ms, 95), 2),
        "p99": round(percentile(ms, 99), 2),
        "mean": round(sum(ms) / len(ms), 2),
        "max": round(max(ms), 2),
    }


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far (MiB)."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def proc_rss_mb(pid: int) -> dict[str, float]:
    """Current and peak RSS (MiB) of another process, from /proc (Linux)."""
    out: dict[str, float] = {}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in {"VmRSS", "VmHWM"}:
                out["rss_mb" if key == "VmRSS" else "peak_rss_mb"] = round(int(value.split()[0]) / 1024, 1)
    except OSError:
        pass
    return out


def cpu_seconds() -> float:
    """User + system CPU seconds of this process (all threads) so far."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def dir_bytes(path: Path) -> int:
    """Bytes on disk (allocated blocks) under ``path``."""
    if not path.exists():
        return 0
    if not path.is_dir():
        return path.lstat().st_blocks * 512
    total = 0
    for root, _, files in os.walk(path):
        for name in files:
            with contextlib.suppress(OSError):
                total += os.lstat(os.path.join(root, name)).st_blocks * 512
    return total


def disk_usage(data_dir: Path) -> dict[str, int]:
    """Bytes of each part of an index: Chroma's SQLite, its HNSW segment files, BM25, papers."""
    chroma = data_dir / "chroma"
    sqlite = sum(dir_bytes(p) for p in chroma.glob("chroma.sqlite3*")) if chroma.exists() else 0
    lexical_root = data_dir / "lexical"
    papers = sum(dir_bytes(p) for p in lexical_root.glob("*/papers.sqlite*")) if lexical_root.exists() else 0
    return {
        "chroma_sqlite": sqlite,
        "chroma_hnsw": dir_bytes(chroma) - sqlite,
        "bm25": dir_bytes(lexical_root) - papers,
        "papers_sqlite": papers,
        "total": dir_bytes(chroma) + dir_bytes(lexical_root),
    }


def machine() -> dict[str, Any]:
    """What the numbers were measured on, including how busy the machine was."""
    return {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "loadavg": [round(x, 2) for x in os.getloadavg()],
    }


def read_manifest(data_dir: Path) -> dict[str, Any] | None:
    """The manifest of a benchmark index (how it was built), if complete."""
    try:
        data: dict[str, Any] = json.loads((data_dir / MANIFEST).read_text())
    except (OSError, ValueError):
        return None
    return data


def write_json(path: Path, data: Any) -> Path:
    """Write ``data`` as indented JSON (atomically)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, default=str))
    tmp.replace(path)
    return path


def run_worker(module: str, args: list[str], timeout: float = 1800) -> dict[str, Any]:
    """Run ``python -m module args`` in a fresh process; it prints one JSON object last."""
    command = [sys.executable, "-m", module, *args]
    clock = time.perf_counter()
    got = subprocess.run(
        command, capture_output=True, text=True, env=isolated_env(), cwd=ROOT, timeout=timeout, check=False
    )
    if got.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed ({got.returncode}):\n{got.stderr[-4000:]}")
    lines = [line for line in got.stdout.splitlines() if line.startswith("{")]
    if not lines:
        raise RuntimeError(
            f"{' '.join(command)} printed no JSON:\n{got.stdout[-2000:]}\n{got.stderr[-2000:]}"
        )
    data: dict[str, Any] = json.loads(lines[-1])
    data.setdefault("worker_wall_s", round(time.perf_counter() - clock, 2))
    return data


def emit(data: dict[str, Any]) -> None:
    """Print a worker's result as the last line of stdout."""
    print(json.dumps(data, default=str), flush=True)
