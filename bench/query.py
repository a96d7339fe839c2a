"""Query latency worker: warm per-stage latency, the llama-index default retriever side by side,
cold start, profiles. Runs in a fresh process per measurement.

    python -m bench.query warm --data DIR [--url URL] [--queries N] [--llama-index]
    python -m bench.query cold --data DIR [--url URL]
    python -m bench.query profile --data DIR --out FILE [--queries N]

Stages come from Scholium's ``RetrievalTrace.timings`` (``Assistant.search(timings=...)``):
``embed_query``, ``dense`` (Chroma HNSW query for ids and distances),
``lexical`` (BM25), ``fusion`` (RRF, grouping, one read of the returned chunks' text) and
``retrieve_total``; ``total`` is the wall time of the ``Assistant.search`` call and ``cpu`` the
process CPU time it used (close to what the wall time would be on an idle machine: the box
these benchmarks were written on is shared, and wall times include waiting for a core).
"""

from __future__ import annotations

import argparse
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from .common import emit, machine, peak_rss_mb, queries, read_manifest, settings_for, summarize_ms

MODES = ("hybrid", "dense", "lexical")


def open_assistant(data_dir: Path, url: str | None) -> Any:
    """An Assistant over a benchmark index, with the embedding model it was built with."""
    from rag import Assistant

    from .standin import embed_model_for

    manifest = read_manifest(data_dir)
    if manifest is None:
        raise SystemExit(f"{data_dir} is not a benchmark index (no manifest)")
    settings = settings_for(data_dir, url)
    assistant = Assistant(settings, auto_ingest=False)
    model = embed_model_for(str(manifest["embed"]), settings)
    if model is not None:
        assistant.index._embed_model = model  # before first use: the index loads lazily
    return assistant


def llama_default_retriever(assistant: Any, k: int = 5) -> Any:
    """The plain llama-index pipeline over the same Chroma collection and embedding model."""
    from llama_index.core import VectorStoreIndex

    from rag.embeddings import to_llama_index

    store = assistant.index.chroma.store
    index = VectorStoreIndex.from_vector_store(store, embed_model=to_llama_index(assistant.index.embed_model))
    return index.as_retriever(similarity_top_k=k)


def filter_for(manifest: dict[str, Any]) -> tuple[Any, str]:
    """A realistic filter for a benchmark index: a category on the synthetic corpora (about a
    quarter of the papers), a source file on the bundled corpus (about a third)."""
    from rag.retrieve import SearchFilters
    from rag.settings import BUNDLED_CORPUS

    if manifest.get("embed") == "real":
        first = sorted(p.name for p in BUNDLED_CORPUS.iterdir() if p.suffix == ".txt")[0]
        return SearchFilters(source=first), f"source={first}"
    return SearchFilters(category="cs.CL"), "category=cs.CL"


def warm(
    data_dir: Path, url: str | None, n: int, with_llama: bool, modes: list[str], n_filtered: int = 10
) -> dict[str, Any]:
    """Warm latency per stage and mode (after a warm-up pass), plus the llama-index default,
    plus ``n_filtered`` hybrid searches with a metadata filter."""
    qs = queries(max(n, 20))
    clock = time.perf_counter()
    assistant = open_assistant(data_dir, url)
    for q in qs[:10]:  # warm-up: model, HNSW segment, BM25 pages, code paths
        for mode in modes:
            assistant.search(q, mode=mode)
    warmup_s = time.perf_counter() - clock
    llama = llama_default_retriever(assistant) if with_llama else None
    if llama is not None:
        for q in qs[:10]:
            llama.retrieve(q)
    stages: dict[str, dict[str, list[float]]] = {m: defaultdict(list) for m in modes}
    llama_s: list[float] = []
    llama_cpu_s: list[float] = []
    llama_embed_s: list[float] = []
    model = assistant.index.embed_model
    for i in range(n):
        q = qs[i % len(qs)]
        for mode in modes:  # interleaved, so machine-load drift hits every variant alike
            timings: dict[str, float] = {}
            cpu = time.process_time()
            clock = time.perf_counter()
            assistant.search(q, mode=mode, timings=timings)
            stages[mode]["total"].append(time.perf_counter() - clock)
            stages[mode]["cpu"].append(time.process_time() - cpu)
            for key, value in timings.items():
                stages[mode][key].append(value)
        if llama is not None:
            cpu = time.process_time()
            clock = time.perf_counter()
            llama.retrieve(q)
            llama_s.append(time.perf_counter() - clock)
            llama_cpu_s.append(time.process_time() - cpu)
            if i < 50:  # its embedding share: the same model, the same call
                clock = time.perf_counter()
                model.get_query_embedding(q)
                llama_embed_s.append(time.perf_counter() - clock)
    filtered: dict[str, list[float]] = defaultdict(list)
    filters, described = filter_for(read_manifest(data_dir) or {})
    for i in range(n_filtered):
        timings = {}
        clock = time.perf_counter()
        assistant.search(qs[i % len(qs)], filters=filters, timings=timings)
        filtered["total"].append(time.perf_counter() - clock)
        for key, value in timings.items():
            filtered[key].append(value)
    out: dict[str, Any] = {
        "chunks": assistant.index.chroma.count(),
        "papers": assistant.index.papers.count(),
        "queries": n,
        "warmup_s": round(warmup_s, 2),
        "modes": {m: {k: summarize_ms(v) for k, v in stages[m].items()} for m in modes},
        "filtered": {"filter": described, **{k: summarize_ms(v) for k, v in filtered.items()}},
        "peak_rss_mb": peak_rss_mb(),
        "machine": machine(),
    }
    if llama is not None:
        out["llama_index_default"] = {
            "total": summarize_ms(llama_s),
            "cpu": summarize_ms(llama_cpu_s),
            "embed_query": summarize_ms(llama_embed_s),
            "what": "VectorStoreIndex.from_vector_store(ChromaVectorStore(same collection), "
            "embed_model=same).as_retriever(similarity_top_k=5).retrieve(q)",
        }
    return out


def cold(data_dir: Path, url: str | None) -> dict[str, Any]:
    """A fresh process: import, open, first search (its stages), second search."""
    clock = time.perf_counter()
    import rag  # noqa: F401

    import_s = time.perf_counter() - clock
    assistant = open_assistant(data_dir, url)
    opened_s = time.perf_counter() - clock
    first: dict[str, float] = {}
    assistant.search("warm up the index", timings=first)
    first_s = time.perf_counter() - clock
    second: dict[str, float] = {}
    t2 = time.perf_counter()
    assistant.search("complex-valued network for echo cancellation", timings=second)
    second_s = time.perf_counter() - t2
    return {
        "import_s": round(import_s, 3),
        "construct_s": round(opened_s - import_s, 3),
        "first_search_s": round(first_s - opened_s, 3),
        "cold_start_s": round(first_s, 3),
        "first_search_stages_ms": {k: round(v * 1000, 1) for k, v in first.items()},
        "second_search_ms": round(second_s * 1000, 1),
        "second_search_stages_ms": {k: round(v * 1000, 1) for k, v in second.items()},
        "peak_rss_mb": peak_rss_mb(),
    }


def profile(data_dir: Path, url: str | None, out: Path, n: int) -> dict[str, Any]:
    """cProfile of ``n`` warm hybrid searches."""
    import cProfile

    from .ingest import write_profile

    qs = queries(max(n, 20))
    assistant = open_assistant(data_dir, url)
    for q in qs[:10]:
        assistant.search(q)
    profiler = cProfile.Profile()
    clock = time.perf_counter()
    profiler.enable()
    for i in range(n):
        assistant.search(qs[i % len(qs)])
    profiler.disable()
    wall = time.perf_counter() - clock
    write_profile(
        profiler, out, f"{n} warm hybrid searches over {data_dir} ({assistant.index.chroma.count()} chunks)"
    )
    return {"profile": str(out), "queries": n, "wall_s": round(wall, 2)}


def main() -> None:
    """Command-line entry."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("what", choices=["warm", "cold", "profile"])
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--url")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--modes", default=",".join(MODES))
    parser.add_argument("--llama-index", action="store_true")
    parser.add_argument("--filtered", type=int, default=10, help="filtered hybrid searches (warm)")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    if args.what == "warm":
        emit(warm(args.data, args.url, args.queries, args.llama_index, args.modes.split(","), args.filtered))
    elif args.what == "cold":
        emit(cold(args.data, args.url))
    else:
        if args.out is None:
            parser.error("--out is required")
        emit(profile(args.data, args.url, args.out, args.queries))


if __name__ == "__main__":
    main()
