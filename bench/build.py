"""Benchmark indexes: the bundled corpus with the real model, synthetic corpora with the stand-in.

    python -m bench.build SIZE [--work DIR] [--step N] [--max-steps K] [--rebuild]

Indexes live under ``--work`` (default $SCHOLIUM_BENCH_DIR or /tmp/scholium-scaling) as
``index-<size>/`` and are reused by later runs. A synthetic index is built in steps of ``--step``
papers (each step an incremental ``ingest`` of the next slice, in its own process): a build can
stop after ``--max-steps`` and resume, and the steps show how ingest cost grows with index size.
"""

from __future__ import annotations

import argparse
import shutil
import time
from pathlib import Path
from typing import Any

from .common import DEFAULT_WORK, read_manifest, run_worker, write_json

BUNDLED = 260


def corpus_file(work: Path, size: int) -> Path:
    """The synthetic corpus of ``size`` papers (generated once; the same seed for all sizes, so
    a smaller corpus is a prefix of a larger one)."""
    from .synth import write

    return write(size, work / "corpus" / f"synth-{size}.jsonl", seed=0)


def step_files(work: Path, size: int, step: int) -> list[Path]:
    """``corpus_file`` cut into consecutive slices of ``step`` papers."""
    source = corpus_file(work, size)
    folder = work / "corpus" / f"synth-{size}-step{step}"
    stamp = folder / "SOURCE"
    if stamp.exists() and stamp.read_text() == (source.with_suffix(".sha1")).read_text():
        return sorted(folder.glob("part-*.jsonl"))
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    lines = source.read_text(encoding="utf-8").splitlines(keepends=True)
    for i, start in enumerate(range(0, len(lines), step)):
        (folder / f"part-{i:03d}.jsonl").write_text("".join(lines[start : start + step]), encoding="utf-8")
    stamp.write_text(source.with_suffix(".sha1").read_text())
    return sorted(folder.glob("part-*.jsonl"))


def index_dir(work: Path, size: int) -> Path:
    """Where the benchmark index of ``size`` papers lives."""
    return work / f"index-{size}"


def build(
    size: int,
    work: Path = DEFAULT_WORK,
    *,
    step: int | None = None,
    max_steps: int | None = None,
    rebuild: bool = False,
    profile: Path | None = None,
) -> dict[str, Any]:
    """Build (or finish building) the index of ``size`` papers; return its manifest.

    ``size == 260`` is the bundled corpus embedded with the real model, rebuilt every time (its
    ingest is the real end-to-end measurement). Other sizes use the stand-in embedding.
    """
    data = index_dir(work, size)
    manifest = read_manifest(data)
    if rebuild or size == BUNDLED or (manifest and manifest.get("target_papers") != size):
        shutil.rmtree(data, ignore_errors=True)
        manifest = None
    if size == BUNDLED:
        from rag.settings import BUNDLED_CORPUS

        args = ["--data", str(data), "--embed", "real", str(BUNDLED_CORPUS)]
        run_worker("bench.ingest", [*args, *(["--profile", str(profile)] if profile else [])])
        manifest = read_manifest(data) or {}
        manifest.update(target_papers=size, complete=True, step=size)
        write_json(data / "bench-manifest.json", manifest)
        return manifest
    step = step or (manifest or {}).get("step") or min(size, 20_000)
    if manifest and manifest.get("step") != step:
        raise SystemExit(f"{data} is being built in steps of {manifest.get('step')}, not {step}")
    parts = step_files(work, size, step)
    if manifest is None:
        data.mkdir(parents=True, exist_ok=True)
        write_json(
            data / "bench-manifest.json",
            {"embed": "standin", "steps": [], "step": step, "target_papers": size, "complete": False},
        )
    done = len((manifest or {}).get("steps", []))
    ran = 0
    for i, part in enumerate(parts):
        if i < done:
            continue
        if max_steps is not None and ran >= max_steps:
            break
        clock = time.perf_counter()
        print(f"[build] index-{size}: step {i + 1}/{len(parts)} ({part.name})", flush=True)
        run_worker(
            "bench.ingest",
            ["--data", str(data), "--embed", "standin", str(part)]
            + (["--profile", str(profile)] if profile and i == 0 else []),
            timeout=7200,
        )
        print(f"[build]   done in {time.perf_counter() - clock:.0f} s", flush=True)
        ran += 1
    manifest = read_manifest(data) or {}
    manifest.update(target_papers=size, step=step, complete=len(manifest.get("steps", [])) == len(parts))
    write_json(data / "bench-manifest.json", manifest)
    return manifest


def main() -> None:
    """Command-line entry."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("size", type=int)
    parser.add_argument("--work", type=Path, default=DEFAULT_WORK)
    parser.add_argument("--step", type=int)
    parser.add_argument("--max-steps", type=int)
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("--profile", type=Path)
    args = parser.parse_args()
    manifest = build(
        args.size,
        args.work,
        step=args.step,
        max_steps=args.max_steps,
        rebuild=args.rebuild,
        profile=args.profile,
    )
    print(
        f"index-{args.size}: {manifest.get('papers')} papers, {manifest.get('chunks')} chunks, "
        f"complete={manifest.get('complete')}"
    )


if __name__ == "__main__":
    main()
