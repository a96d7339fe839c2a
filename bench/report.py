"""Markdown summary, plot and console table from bench/results/scaling.json.

python -m bench.report [--json bench/results/scaling.json]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from .common import RESULTS

VECTOR_BYTES = 384 * 4  # one float32 all-MiniLM-L6-v2 vector
TARGETS = {
    "p50_260_ms": 30.0,
    "p95_260_ms": 80.0,
    "p95_100k_ms": 250.0,
    "cold_start_s": 3.0,
    "ingest_bundled_s": 60.0,
}


def _fmt(value: Any, digits: int = 1) -> str:
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "identical" if value else "differs"
    if isinstance(value, float):
        if value and abs(value) < 0.01:
            return f"{value:.1e}"
        return f"{value:,.{digits}f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def _table(header: list[str], rows: list[list[Any]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(_fmt(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _size_label(size: int) -> str:
    return f"{size // 1000}k" if size >= 1000 and size % 1000 == 0 else str(size)


def _sizes(results: dict[str, Any]) -> list[tuple[int, dict[str, Any]]]:
    return sorted(((int(k), v) for k, v in results.get("sizes", {}).items()), key=lambda kv: kv[0])


def _p(stats: dict[str, Any], key: str = "p50") -> float | None:
    value = stats.get(key) if stats else None
    return float(value) if value is not None else None


def targets(results: dict[str, Any]) -> list[list[Any]]:
    """Rows: target, measured, met?"""
    sizes = dict(_sizes(results))
    rows: list[list[Any]] = []

    def verdict(value: float | None, limit: float) -> str:
        if value is None:
            return "not measured"
        return "MET" if value < limit else "MISSED"

    small = sizes.get(260)
    if small and "query" in small:
        hybrid = small["query"]["modes"]["hybrid"]
        p50, p95 = _p(hybrid["total"]), _p(hybrid["total"], "p95")
        cpu50, cpu95 = _p(hybrid["cpu"]), _p(hybrid["cpu"], "p95")
        rows.append(
            [
                "warm retrieval p50 @260 < 30 ms",
                f"{p50:.1f} ms (cpu {cpu50:.1f} ms)",
                verdict(p50, TARGETS["p50_260_ms"]),
            ]
        )
        rows.append(
            [
                "warm retrieval p95 @260 < 80 ms",
                f"{p95:.1f} ms (cpu {cpu95:.1f} ms)",
                verdict(p95, TARGETS["p95_260_ms"]),
            ]
        )
    big = sizes.get(100_000)
    if big and "query" in big:
        hybrid = big["query"]["modes"]["hybrid"]
        p95, cpu95 = _p(hybrid["total"], "p95"), _p(hybrid["cpu"], "p95")
        rows.append(
            [
                "warm retrieval p95 @100k < 250 ms",
                f"{p95:.1f} ms (cpu {cpu95:.1f} ms)",
                verdict(p95, TARGETS["p95_100k_ms"]),
            ]
        )
    else:
        rows.append(["warm retrieval p95 @100k < 250 ms", "index not built", "not measured"])
    for size, entry in sizes.items():
        if "cold" in entry and size in (260, 100_000):
            cold = entry["cold"]["cold_start_s"]
            rows.append(
                [
                    f"cold start Assistant() + first search @{_size_label(size)} < 3 s",
                    f"{cold:.2f} s (import {entry['cold']['import_s']:.2f} s)",
                    verdict(cold, TARGETS["cold_start_s"]),
                ]
            )
    if small:
        wall = small["ingest"]["wall_s"]
        rows.append(
            [
                "ingest of the bundled corpus < 60 s",
                f"{wall:.1f} s (cpu {small['ingest']['cpu_s']:.1f} s, embed "
                f"{small['ingest']['stages_s'].get('embed', 0):.1f} s)",
                verdict(wall, TARGETS["ingest_bundled_s"]),
            ]
        )
    return rows


def ingest_rows(results: dict[str, Any]) -> list[list[Any]]:
    """Per size: throughput, stages, memory, disk."""
    rows = []
    for size, entry in _sizes(results):
        ing = entry["ingest"]
        st = ing["stages_s"]
        measured = ing.get("embed_measured")
        embed = st.get("embed") if measured else ing.get("embed_extrapolated_s")
        total = ing["wall_s"] if measured else ing.get("wall_s_with_real_model_extrapolated")
        rows.append(
            [
                _size_label(size) + ("" if measured else " (synthetic)"),
                ing["chunks"],
                st.get("parse"),
                st.get("chunk"),
                f"{_fmt(embed)}{'' if measured else ' *'}",
                st.get("write"),
                st.get("lexical"),
                st.get("other"),
                f"{_fmt(total)}{'' if measured else ' *'}",
                ing.get("papers_per_s") if measured else ing.get("papers_per_s_without_model"),
                ing.get("chunks_per_s") if measured else ing.get("chunks_per_s_without_model"),
                ing.get("peak_rss_mb"),
                ing.get("disk_mb_per_1k_papers"),
            ]
        )
    return rows


def query_rows(results: dict[str, Any]) -> list[list[Any]]:
    """Per size: warm hybrid latency and its stages, dense/lexical only, llama-index default."""
    rows = []
    for size, entry in _sizes(results):
        q = entry.get("query")
        if not q:
            continue
        h = q["modes"]["hybrid"]
        llama = q.get("llama_index_default", {}).get("total", {})
        dense = q["modes"].get("dense", {}).get("total", {})
        ratio = (_p(h["total"]) or 0) / (_p(llama) or float("nan")) if llama else None
        rows.append(
            [
                _size_label(size),
                q["chunks"],
                _p(h["total"]),
                _p(h["total"], "p95"),
                _p(h["total"], "p99"),
                _p(h["cpu"]),
                _p(h.get("embed_query", {})),
                _p(h.get("dense", {})),
                _p(h.get("lexical", {})),
                _p(h.get("fusion", {})),
                _p(dense),
                _p(q["modes"].get("lexical", {}).get("total", {})),
                _p(llama),
                _p(llama, "p95"),
                f"{ratio:.2f}x" if ratio else None,
                q.get("peak_rss_mb"),
            ]
        )
    return rows


def cold_rows(results: dict[str, Any]) -> list[list[Any]]:
    """Per size: the median cold start and its parts."""
    rows = []
    for size, entry in _sizes(results):
        c = entry.get("cold")
        if not c:
            continue
        stages = c["first_search_stages_ms"]
        rows.append(
            [
                _size_label(size),
                c["import_s"],
                c["construct_s"],
                c["first_search_s"],
                c["cold_start_s"],
                stages.get("embed_query"),
                stages.get("dense"),
                stages.get("lexical"),
                c["second_search_ms"],
                " / ".join(f"{x:.2f}" for x in c.get("all_cold_start_s", [])),
            ]
        )
    return rows


def disk_rows(results: dict[str, Any]) -> list[list[Any]]:
    """Per size: bytes per chunk of each part of the index."""
    rows = []
    for size, entry in _sizes(results):
        ing = entry["ingest"]
        per = ing.get("disk_bytes_per_chunk", {})
        rows.append(
            [
                _size_label(size),
                ing["chunks"],
                ing.get("chunks_per_paper"),
                per.get("chroma_sqlite"),
                per.get("chroma_hnsw"),
                per.get("bm25"),
                per.get("papers_sqlite"),
                per.get("total"),
                round(per.get("total", 0) / VECTOR_BYTES, 1) if per else None,
                round(ing["disk_bytes"].get("total", 0) / 1e6, 1),
            ]
        )
    return rows


def concurrency_rows(results: dict[str, Any]) -> list[list[Any]]:
    """Per variant and level: throughput and latency."""
    rows = []
    for name, data in results.get("concurrency", {}).items():
        for level in data.get("levels", []):
            lat = level["latency_ms"]
            rows.append(
                [
                    name,
                    level["clients"],
                    level["throughput_qps"],
                    lat["p50"],
                    lat["p95"],
                    lat["p99"],
                    level["stages_p50_ms"].get("embed_query"),
                    level["stages_p50_ms"].get("dense"),
                ]
            )
    return rows


def projection(results: dict[str, Any]) -> list[list[Any]]:
    """1M and 2.5M papers from the measured per-paper disk, memory slope and embed rate."""
    sizes = _sizes(results)
    largest = sizes[-1][1] if sizes else None
    if not largest or len(sizes) < 2:
        return []
    ing = largest["ingest"]
    per_paper_disk = ing["disk_bytes"]["total"] / ing["papers"]
    (s0, e0), (s1, e1) = sizes[0], sizes[-1]
    rss0 = e0.get("query", {}).get("peak_rss_mb")
    rss1 = e1.get("query", {}).get("peak_rss_mb")
    slope = (rss1 - rss0) / (s1 - s0) if rss0 and rss1 and s1 > s0 else None
    rate = results.get("embed_rate", {})
    cpp = ing.get("chunks_per_paper") or 2.7
    write_rate = None
    steps = ing.get("per_step") or []
    if steps and "write" in steps[-1]["stages_s"]:
        write_rate = steps[-1]["papers"] * cpp / steps[-1]["stages_s"]["write"]
    rows = []
    for n in (1_000_000, 2_500_000):
        chunks = n * cpp
        rows.append(
            [
                _size_label(n),
                round(chunks / 1e6, 2),
                round(per_paper_disk * n / 1e9, 1),
                round((rss1 + slope * (n - s1)) / 1024, 1) if slope and rss1 else None,
                round(chunks / rate["chunks_per_s"] / 3600, 1) if rate else None,
                round(chunks / rate["chunks_per_cpu_s"] / 3600, 1) if rate else None,
                round(chunks / write_rate / 3600, 1) if write_rate else None,
            ]
        )
    return rows


def experiment_rows(results: dict[str, Any]) -> list[list[Any]]:
    """Optimization candidates, if measured."""
    rows = []
    for name, data in (results.get("experiments") or {}).items():
        if not isinstance(data, dict) or "change" not in data:
            continue
        gain = data.get("speedup_cpu") or data.get("speedup_wall") or data.get("speedup")
        if name == "lean_nodes":
            gain = f"{data.get('sqlite_bytes_saved', 0):.0%} of SQLite bytes (relationships only)"
        check = data.get(
            "max_abs_diff",
            data.get("identical", data.get("identical_results", data.get("mean_overlap_of_top40", ""))),
        )
        rows.append([name, data["change"], gain, check, _experiment_detail(name, data)])
    return rows


def _experiment_detail(name: str, data: dict[str, Any]) -> str:
    """One line of numbers per experiment."""
    if name == "combined_query":
        parts = [
            f"{key[6:]} papers: p50 {v['current_ms']['p50']:.1f} → {v['candidate_ms']['p50']:.1f} ms, "
            f"p95 {v['current_ms']['p95']:.1f} → {v['candidate_ms']['p95']:.1f} ms "
            f"({v['same_papers_and_chunks']} same results)"
            for key, v in data.items()
            if key.startswith("index-") and isinstance(v, dict)
        ]
        return "; ".join(parts)
    if name == "dense_ids_only":
        cur, cand = data["current_p50_ms"], data["candidate_p50_ms"]
        return (
            f"dense stage p50 {cur['dense']:.1f} → {cand['dense']:.1f} ms, total p50 {cur['total']:.1f} → "
            f"{cand['total']:.1f} ms at {data['chunks']:,} chunks"
        )
    if name == "lean_nodes":
        return (
            f"Chroma SQLite {data['as_is']['chroma_sqlite_bytes_per_chunk']:,} → "
            f"{data['no_relationships']['chroma_sqlite_bytes_per_chunk']:,} → "
            f"{data['no_relationships_no_excluded']['chroma_sqlite_bytes_per_chunk']:,} B/chunk; result "
            "differences stay within the rebuild control (as_is_again)"
        )
    if name == "lexical_threads":
        return (
            f"{data['current_ms_per_query']:.2f} → {data['candidate_ms_per_query']:.2f} ms/query "
            f"at {data['chunks']:,} chunks"
        )
    if name == "threadpool_controller":
        return (
            f"{data['current_cpu_ms_per_query']:.1f} → {data['candidate_cpu_ms_per_query']:.1f} ms CPU/query"
        )
    if name == "bert_gemm":
        return "within run-to-run noise (0.96x-1.05x over runs): not worth it"
    if name == "filtered_postfilter":
        return (
            f"filtered dense stage p50 {data['current_dense_ms']['p50']:,.0f} → "
            f"{data['candidate_dense_ms']['p50']:,.1f} ms, p95 {data['current_dense_ms']['p95']:,.0f} → "
            f"{data['candidate_dense_ms']['p95']:,.1f} ms ({data['filter']}, {data['chunks']:,} chunks); "
            f"top-40 overlap {data['mean_overlap_of_top40']:.1%}, {data['fallbacks']} fallbacks"
        )
    if name == "chunk_sentences":
        return (
            f"chunks differ ({data['chunks_current']} → {data['chunks_candidate']}): needs the quality eval"
        )
    if name == "insert_batch":
        return f"{data['batch_256_chunks_per_s']} → {data['batch_2048_chunks_per_s']} chunks/s written"
    if name == "embed_threads":
        return f"{data['threads_1_chunks_per_s']} → {data['threads_2_chunks_per_s']} chunks/s (2 busy cores)"
    return ""


def plot(results: dict[str, Any], path: Path) -> Path | None:
    """Latency (and its stages) vs corpus size, and disk / memory vs size."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    sizes = [(s, e) for s, e in _sizes(results) if "query" in e]
    if not sizes:
        return None
    xs = [s for s, _ in sizes]
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(12, 6))

    def series(fn: Any) -> list[float]:
        return [fn(e) for _, e in sizes]

    def hybrid(e: dict[str, Any]) -> dict[str, Any]:
        modes: dict[str, Any] = e["query"]["modes"]["hybrid"]
        return modes

    ax.plot(xs, series(lambda e: _p(hybrid(e)["total"])), "o-", lw=2, label="Scholium hybrid p50 (wall)")
    ax.plot(
        xs, series(lambda e: _p(hybrid(e)["total"], "p95")), "o--", lw=2, label="Scholium hybrid p95 (wall)"
    )
    ax.plot(xs, series(lambda e: _p(hybrid(e)["cpu"])), "s:", label="Scholium hybrid p50 (CPU time)")
    for stage_name, style in (("embed_query", "^-"), ("dense", "v-"), ("lexical", "d-"), ("fusion", "x-")):
        ax.plot(
            xs,
            series(lambda e, k=stage_name: _p(hybrid(e).get(k, {})) or 0.0),
            style,
            alpha=0.6,
            label=f"  stage {stage_name} p50",
        )
    if all("llama_index_default" in e["query"] for _, e in sizes):
        ax.plot(
            xs,
            series(lambda e: _p(e["query"]["llama_index_default"]["total"])),
            "k*-",
            label="llama-index default retriever p50",
        )
    ax.axhline(TARGETS["p95_100k_ms"], color="red", lw=0.8, ls="--")
    ax.text(
        xs[-1], TARGETS["p95_100k_ms"] * 1.05, "p95 target @100k: 250 ms", color="red", fontsize=8, ha="right"
    )
    ax.axhline(TARGETS["p50_260_ms"], color="orange", lw=0.8, ls="--")
    ax.text(
        xs[-1], TARGETS["p50_260_ms"] * 0.8, "p50 target @260: 30 ms", color="orange", fontsize=8, ha="right"
    )
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("papers in the index (260 real; larger: synthetic + stand-in vectors)")
    ax.set_ylabel("warm retrieval latency (ms)")
    ax.set_title("Warm query latency vs corpus size")
    ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.13), ncol=2)
    ax.grid(True, which="both", alpha=0.3)
    disk = [e["ingest"]["disk_bytes"]["total"] / 1e6 for _, e in sizes]
    rss = series(lambda e: e["query"].get("peak_rss_mb") or 0.0)
    ax2.plot(xs, disk, "o-", label="index on disk (MB)")
    ax2.plot(xs, rss, "s-", label="query process peak RSS (MB)")
    ax2.plot(
        xs, [e["ingest"].get("peak_rss_mb") or 0.0 for _, e in sizes], "^-", label="ingest peak RSS (MB)"
    )
    ax2.set_xscale("log")
    ax2.set_yscale("log")
    ax2.set_xlabel("papers in the index")
    ax2.set_title("Disk and memory vs corpus size")
    ax2.legend(fontsize=8)
    ax2.grid(True, which="both", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def bundled_rate(results: dict[str, Any]) -> str:
    """The real model's rate inside the bundled-corpus ingest (a second real measurement)."""
    ing = results.get("sizes", {}).get("260", {}).get("ingest")
    if not ing or not ing.get("stages_s", {}).get("embed"):
        return ""
    rate = ing["chunks"] / ing["stages_s"]["embed"]
    return (
        f"Inside the real 260-paper ingest the embed stage ran at {rate:.2f} chunks/s "
        f"({ing['chunks']} chunks)."
    )


def markdown(results: dict[str, Any], image: Path | None) -> str:
    """The whole summary."""
    m = results.get("machine", {})
    end = results.get("machine_end", {})
    rate = results.get("embed_rate", {})
    out = [
        "# Scholium scaling benchmarks",
        "",
        f"Run {results.get('started')} with `python -m bench.run` in {results.get('runtime_s', 0):.0f} s on "
        f"{m.get('cpus')} CPUs ({m.get('platform')}); load average {m.get('loadavg')} at the start, "
        f"{end.get('loadavg')} at the end. The machine is **shared**: wall-clock latencies include waiting "
        "for a core, `cpu` columns are process CPU time (close to what an idle machine would show).",
        "",
        "**What is real.** 260 papers = the bundled corpus with the real embedding model, measured end to "
        "end. 10k and 100k papers = a **synthetic** corpus (`bench/synth.py`: real sentences shuffled "
        "across papers, generated titles and ids) indexed with a **stand-in embedding** "
        "(`bench/standin.py`: hashed bag-of-words random projection to 384-d unit vectors). Parse, chunk, "
        "Chroma write, HNSW search, BM25 and fusion are measured at scale; columns marked `*` "
        "are **extrapolated** from the real model's measured rate. Query latencies at every size include "
        "the real model's query embedding (it runs on every query; the stand-in vector is used for search).",
        "",
    ]
    if image:
        out += [f"![latency vs size]({image.name})", ""]
    out += ["## Targets", "", _table(["target", "measured", "verdict"], targets(results)), ""]
    out += [
        "## Ingest",
        "",
        f"Real model rate (all-MiniLM-L6-v2, NumPy, batch {rate.get('batch_size')}, "
        f"{rate.get('threads')} thread) on {rate.get('chunks')} chunks: "
        f"**{rate.get('chunks_per_s')} chunks/s** "
        f"wall ({rate.get('chunks_per_cpu_s')} chunks per CPU-second); single query embedding p50 "
        f"{rate.get('query_embed_ms', {}).get('p50')} ms. {bundled_rate(results)}",
        "",
        _table(
            [
                "papers",
                "chunks",
                "parse s",
                "chunk s",
                "embed s",
                "write s",
                "BM25 s",
                "other s",
                "total s",
                "papers/s excl. model",
                "chunks/s excl. model",
                "peak RSS MB",
                "disk MB / 1k papers",
            ],
            ingest_rows(results),
        ),
        "",
        "`*` extrapolated: chunks ÷ the real model's measured wall rate. For the real 260-paper row the "
        "throughput columns include the model. Synthetic indexes are built in 10k-paper incremental "
        "steps (one `ingest` per step: a single ingest of more than ~12k new papers fails, see "
        "docs/scaling.md); per-step numbers are in `scaling.json`.",
        "",
    ]
    for size, entry in _sizes(results):
        steps = entry["ingest"].get("per_step", [])
        if len(steps) > 1:
            out += [
                f"Incremental steps of the {_size_label(size)} build (cost of adding 10k papers to an index "
                "that already holds `chunks before`):",
                "",
                _table(
                    [
                        "chunks before",
                        "wall s",
                        "cpu s",
                        "chunk s",
                        "write s",
                        "BM25 rebuild s",
                        "other s",
                        "peak RSS MB",
                    ],
                    [
                        [
                            s["chunks_before"],
                            s["wall_s"],
                            s["cpu_s"],
                            s["stages_s"].get("chunk"),
                            s["stages_s"].get("write"),
                            s["stages_s"].get("lexical"),
                            s["stages_s"].get("other"),
                            s["peak_rss_mb"],
                        ]
                        for s in steps
                    ],
                ),
                "",
            ]
    out += [
        "## Warm query latency (ms)",
        "",
        _table(
            [
                "papers",
                "chunks",
                "hybrid p50",
                "p95",
                "p99",
                "cpu p50",
                "embed_query p50",
                "dense p50",
                "lexical p50",
                "fusion p50",
                "dense-only p50",
                "lexical-only p50",
                "llama-index p50",
                "llama-index p95",
                "ours ÷ llama-index (p50)",
                "peak RSS MB",
            ],
            query_rows(results),
        ),
        "",
        "llama-index default = `VectorStoreIndex.from_vector_store(ChromaVectorStore(same collection), "
        "embed_model=same).as_retriever(similarity_top_k=5).retrieve(q)`: dense only, 5 chunks, no BM25, "
        "no fusion, no paper grouping; Scholium hybrid asks Chroma for 40 candidates, runs BM25 over "
        "every chunk, fuses and groups by paper. Queries are interleaved so load drift hits both alike.",
        "",
        "Filtered hybrid search (warm; Chroma `where` clause + a BM25 weight mask built over every chunk):",
        "",
        _table(
            ["papers", "filter", "n", "p50 ms", "p95 ms", "dense p50", "lexical p50"],
            [
                [
                    _size_label(size),
                    e["query"]["filtered"].get("filter"),
                    e["query"]["filtered"].get("total", {}).get("n"),
                    _p(e["query"]["filtered"].get("total", {})),
                    _p(e["query"]["filtered"].get("total", {}), "p95"),
                    _p(e["query"]["filtered"].get("dense", {})),
                    _p(e["query"]["filtered"].get("lexical", {})),
                ]
                for size, e in _sizes(results)
                if e.get("query", {}).get("filtered")
            ],
        ),
        "",
        "## Cold start (fresh process, page cache warm)",
        "",
        _table(
            [
                "papers",
                "import s",
                "Assistant() s",
                "first search s",
                "total s",
                "1st embed_query ms",
                "1st dense ms",
                "1st lexical ms",
                "2nd search ms",
                "all runs s",
            ],
            cold_rows(results),
        ),
        "",
        "## Disk and memory",
        "",
        _table(
            [
                "papers",
                "chunks",
                "chunks/paper",
                "Chroma SQLite B/chunk",
                "HNSW B/chunk",
                "BM25 B/chunk",
                "papers.sqlite B/chunk",
                "total B/chunk",
                "× raw vector (1536 B)",
                "total MB",
            ],
            disk_rows(results),
        ),
        "",
    ]
    server = results.get("server")
    if server:
        sq = server["query"]["modes"]
        sizes = dict(_sizes(results))
        emb = sizes.get(server["size"], {}).get("query", {}).get("modes", {})
        out += [
            f"## Chroma server (`chroma run`, loopback) vs embedded, {_size_label(server['size'])} papers",
            "",
            _table(
                [
                    "mode",
                    "hybrid p50",
                    "hybrid p95",
                    "hybrid p99",
                    "dense stage p50",
                    "dense-only p50",
                    "cold start s",
                ],
                [
                    [
                        "embedded",
                        _p(emb.get("hybrid", {}).get("total", {})),
                        _p(emb.get("hybrid", {}).get("total", {}), "p95"),
                        _p(emb.get("hybrid", {}).get("total", {}), "p99"),
                        _p(emb.get("hybrid", {}).get("dense", {})),
                        _p(emb.get("dense", {}).get("total", {})),
                        sizes.get(server["size"], {}).get("cold", {}).get("cold_start_s"),
                    ],
                    [
                        "server",
                        _p(sq["hybrid"]["total"]),
                        _p(sq["hybrid"]["total"], "p95"),
                        _p(sq["hybrid"]["total"], "p99"),
                        _p(sq["hybrid"].get("dense", {})),
                        _p(sq.get("dense", {}).get("total", {})),
                        server["cold"]["cold_start_s"],
                    ],
                ],
            ),
            "",
            f"Server start-up (to first heartbeat) {server['startup_s']} s; server RSS at the end "
            f"{server.get('server_memory_mb', {}).get('rss_mb')} MB (peak "
            f"{server.get('server_memory_mb', {}).get('peak_rss_mb')} MB).",
            "",
        ]
    if results.get("concurrency"):
        out += [
            "## Concurrency (N clients, each running its share of queries back to back)",
            "",
            _table(
                ["variant", "N", "queries/s", "p50 ms", "p95 ms", "p99 ms", "embed_query p50", "dense p50"],
                concurrency_rows(results),
            ),
            "",
            "`embedded_threads` / `server_threads`: one Assistant shared by N threads; `server_processes`: N "
            "processes with their own Assistant against one `chroma run`; `extractive_260_threads`: "
            "`ask(mode='extractive')` end to end on the real 260-paper index. On 2 cores throughput "
            "saturates at N=2; beyond that latency grows ~linearly with N.",
            "",
        ]
        extractive = results["concurrency"].get("extractive_260_threads", {})
        if extractive.get("cache_cold"):
            cold = extractive["cache_cold"]
            out += [
                f"Extractive answers with a cold sentence-vector cache (first pass over the "
                f"{extractive.get('pool')} questions, one client): p50 **{cold['p50']:,.0f} ms**, p95 "
                f"{cold['p95']:,.0f} ms: every evidence sentence of the retrieved abstracts is embedded "
                "with the real model at question time; the levels above run with the cache warm.",
                "",
            ]
        cap = results.get("concurrency_process_cap")
        if cap:
            out += [
                f"Each `server_processes` client needs ~{cap['per_process_mb']:,.0f} MB (its own BM25 "
                "index, chunk list with metadata, and model); levels above what fits in half the "
                f"memory available at the time ({cap['max_clients']} clients) are skipped.",
                "",
            ]
    small = results.get("small_update")
    if small:
        add, rm = small["add_stages_s"], small["delete_wall_s"]
        out += [
            f"## Small incremental ingest into the {_size_label(small['size'])} index",
            "",
            f"Adding {small['papers_added']} papers to an index of {small['chunks_before']:,} chunks took "
            f"**{small['add_wall_s']} s** (BM25 rebuild over the whole collection {add.get('lexical')} s, "
            f"reading every chunk's metadata and the paper store {add.get('other')} s, chunk "
            f"{add.get('chunk')} s, write {add.get('write')} s; embedding with the stand-in); deleting "
            f"them again took **{rm} s** (again a full BM25 rebuild). Each ingest or delete pays O(index) "
            "fixed costs, whatever its size.",
            "",
        ]
    proj = projection(results)
    if proj:
        out += [
            "## Projection to 1M and 2.5M papers (linear in papers; see docs/scaling.md)",
            "",
            _table(
                [
                    "papers",
                    "chunks (M)",
                    "disk GB",
                    "query RSS GB",
                    "embed h (measured wall rate)",
                    "embed h (1 idle core)",
                    "Chroma write h (last step's rate)",
                ],
                proj,
            ),
            "",
        ]
    exp = experiment_rows(results)
    if exp:
        out += [
            "## Optimization candidates (bench/experiments.py: current vs candidate in one process)",
            "",
            _table(["name", "change", "gain (x)", "output check", "numbers"], exp),
            "",
        ]
    profiles = results.get("profiles", {})
    if profiles:
        out += (
            ["## Profiles", ""] + [f"- `{name}`: [{file}]({file})" for name, file in profiles.items()] + [""]
        )
    timings = results.get("timings_s", {})
    if timings:
        out += [
            "## Run time of each part (s)",
            "",
            _table(["part", "s"], [[k, v] for k, v in timings.items()]),
            "",
        ]
    return "\n".join(out)


def console(results: dict[str, Any]) -> str:
    """A compact plain-text table for the terminal."""
    lines = ["", "TARGETS"]
    lines += [f"  {t:<52} {m:<40} {v}" for t, m, v in targets(results)]
    lines += ["", "WARM HYBRID RETRIEVAL (ms)   papers   p50     p95     p99   cpu p50  llama p50  ratio"]
    for row in query_rows(results):
        lines.append(
            f"  {'':<26}{row[0]:>6} {_fmt(row[2]):>7} {_fmt(row[3]):>7} {_fmt(row[4]):>7} "
            f"{_fmt(row[5]):>7} {_fmt(row[12]):>9} {_fmt(row[14]):>7}"
        )
    lines += [
        "",
        "INGEST        papers  chunks   total s  (* = model extrapolated)   disk MB/1k papers  RSS MB",
    ]
    for row in ingest_rows(results):
        lines.append(f"  {row[0]:<22} {_fmt(row[1]):>8} {row[8]:>12} {_fmt(row[12]):>22} {_fmt(row[11]):>10}")
    lines.append(f"\nruntime {results.get('runtime_s')} s")
    return "\n".join(lines)


def write_report(results: dict[str, Any], out: Path = RESULTS) -> str:
    """Write summary.md and latency_vs_size.png; return the console table."""
    extra = out / "experiments.json"
    if "experiments" not in results and extra.exists():  # from a separate `python -m bench.experiments`
        results = {**results, "experiments": json.loads(extra.read_text())}
    image = plot(results, out / "latency_vs_size.png")
    (out / "summary.md").write_text(markdown(results, image) + "\n")
    return console(results)


def main() -> None:
    """Command-line entry."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--json", type=Path, default=RESULTS / "scaling.json")
    args = parser.parse_args()
    results = json.loads(args.json.read_text())
    print(write_report(results, args.json.parent))


if __name__ == "__main__":
    main()
