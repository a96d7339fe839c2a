"""Chroma write cost of +N papers into an existing (large) benchmark index, per write path.

    python -m bench.chroma_write --data /tmp/scholium-scaling/index-500000 [--papers 10000]
        [--variants llama-index:256 direct:256 direct:2048]

Each variant writes the same chunks (synthetic papers, stand-in vectors) into the index's own
collection, is timed, and its records are deleted again, so every variant meets the same
collection size. Variants are ``PATH:BATCH`` with PATH one of:

* ``llama-index``: llama-index's ``ChromaVectorStore.add`` (the write path before session 7: it
  also stores each node as JSON in the metadata);
* ``direct``: ``ChromaStore.add`` (what ingest uses: ids, text, flat metadata, vector);
* ``no-text``: direct, without the chunk text (a floor: Chroma indexes every document for its
  trigram full-text search, which Scholium does not use);
* ``vectors``: only the vector and ``paper_id`` (the HNSW insert and the SQLite log: the floor of
  any Chroma write).

The last two are measurements, not options: Scholium reads chunk text back from Chroma.
Output: JSON on stdout and ``bench/results/chroma_write.json``.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from .common import RESULTS, machine, read_manifest, settings_for, write_json

OUT = RESULTS / "chroma_write.json"


def chunks_of(n: int) -> tuple[list[str], list[str], list[dict[str, Any]], list[list[float]]]:
    """The chunks of ``n`` new synthetic papers (the ones ``bench.ingest --small-update`` adds),
    with stand-in vectors."""
    from rag.corpus import load_corpus
    from rag.index.chunking import Chunker, embed_text
    from rag.settings import ChunkSettings

    from .standin import StandInEmbedding
    from .synth import generate

    records = generate(n, seed=424242)
    for i, record in enumerate(records):
        record["title"] = f"Addendum {i}: {record['title']}"
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "addendum.jsonl"
        path.write_text("\n".join(json.dumps(r) for r in records))
        nodes = Chunker(ChunkSettings()).chunk(load_corpus([path]).papers)
    vectors = StandInEmbedding().get_text_embedding_batch([embed_text(n) for n in nodes])
    return [n.node_id for n in nodes], [n.text for n in nodes], [dict(n.metadata) for n in nodes], vectors


def write(
    store: Any, path: str, ids: list[str], texts: list[str], metas: list[dict[str, Any]], vecs: Any
) -> None:
    """One write of a batch by write path ``path``."""
    if path == "llama-index":
        from llama_index.core.schema import TextNode

        nodes = [
            TextNode(id_=i, text=t, metadata=m, embedding=v)
            for i, t, m, v in zip(ids, texts, metas, vecs, strict=True)
        ]
        store.store.add(nodes)
    elif path == "direct":
        store.add(ids, texts, metas, vecs)
    elif path == "no-text":
        store._collection.add(ids=ids, metadatas=metas, embeddings=np.asarray(vecs, dtype=np.float32))
    elif path == "vectors":
        lean = [{"paper_id": m["paper_id"]} for m in metas]
        store._collection.add(ids=ids, metadatas=lean, embeddings=np.asarray(vecs, dtype=np.float32))
    else:
        raise SystemExit(f"unknown write path {path!r}")


def main() -> None:
    """Command-line entry."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--data", type=Path, required=True, help="a benchmark index (bench.build)")
    parser.add_argument("--papers", type=int, default=10_000)
    parser.add_argument("--variants", nargs="+", default=["llama-index:256", "direct:256", "direct:2048"])
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    if read_manifest(args.data) is None:
        raise SystemExit(f"{args.data} is not a benchmark index")
    from rag.index.vector_store import ChromaStore

    store = ChromaStore(settings_for(args.data))
    ids, texts, metas, vecs = chunks_of(args.papers)
    if store.existing(ids):
        raise SystemExit("the index already holds these chunks (an interrupted run?): delete them first")
    out: dict[str, Any] = {
        "papers": args.papers,
        "chunks": len(ids),
        "collection_chunks": store.count(),
        "runs": {},
    }
    for variant in args.variants:
        path, _, batch = variant.partition(":")
        size = int(batch or 2048)
        clock = time.perf_counter()
        for start in range(0, len(ids), size):
            part = slice(start, start + size)
            write(store, path, ids[part], texts[part], metas[part], vecs[part])
        wall = time.perf_counter() - clock
        clock = time.perf_counter()
        store.delete(ids)
        out["runs"][variant] = {
            "write_s": round(wall, 1),
            "chunks_per_s": round(len(ids) / wall),
            "delete_s": round(time.perf_counter() - clock, 1),
        }
        print(variant, out["runs"][variant], flush=True)
    out["machine"] = machine()
    out["finished"] = time.strftime("%Y-%m-%dT%H:%M:%S")
    write_json(args.out, out)
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
