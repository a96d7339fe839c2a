"""The real llama.cpp server with SmolLM2-135M (fast plumbing checks) and, if installed, Qwen.

SmolLM2 answers badly on purpose-free prompts; these tests check the plumbing (start, chat,
streaming, JSON mode, timeouts, crashes), not answer quality. The Qwen test checks quality a little.
Everything runs with one thread so that the suite stays usable on 2 cores.
"""

from __future__ import annotations

import importlib.util
import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from rag.generate.client import LLMClient, LLMUnavailable
from rag.generate.local_server import (
    LocalLLMServer,
    LocalServerError,
    ensure_local_server,
    get_local_server,
    stop_local_servers,
)
from rag.generate.model_files import ModelNotInstalled, resolve_gguf
from rag.settings import Settings

pytestmark = pytest.mark.integration

SYSTEM = {"role": "system", "content": "You are a helpful assistant. Answer briefly."}


def _require_server() -> None:
    if importlib.util.find_spec("llama_cpp") is None:
        pytest.skip("llama-cpp-python[server] is not installed")


def _settings(tmp: Path, model: str = "smollm2-135m", **local: Any) -> Settings:
    opts: dict[str, Any] = {"model": model, "threads": 1, "n_ctx": 2048, **local}
    return Settings(data_dir=tmp, local=opts, llm={"timeout_s": 60.0, "max_retries": 1, "max_tokens": 48})


@pytest.fixture(scope="module")
def smol(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    """Settings whose local server (shared, started once for the module) runs SmolLM2."""
    _require_server()
    settings = _settings(tmp_path_factory.mktemp("smol"))
    try:
        resolve_gguf(settings.local.model, settings.models_dir)
    except ModelNotInstalled as exc:
        pytest.skip(str(exc))
    ensure_local_server(settings)
    yield settings
    stop_local_servers()


def _ask(text: str) -> list[dict[str, str]]:
    return [SYSTEM, {"role": "user", "content": text}]


def test_shared_server_is_started_once(smol: Settings) -> None:
    urls: list[str] = []
    threads = [threading.Thread(target=lambda: urls.append(ensure_local_server(smol))) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(urls)) == 1 and urls[0].startswith("http://127.0.0.1:")


def test_chat(smol: Settings) -> None:
    with LLMClient(smol) as client:
        assert client.is_local
        text = client.chat(_ask("What is the capital of France?"), max_tokens=24)
    assert isinstance(text, str) and text.strip()


def test_stream_matches_chat(smol: Settings) -> None:
    client = LLMClient(smol)
    messages = _ask("Name three colours.")
    pieces = list(client.stream(messages, max_tokens=24))
    assert len(pieces) > 1
    assert "".join(pieces) == client.chat(messages, max_tokens=24)  # temperature 0


def test_timeout_is_unavailable(smol: Settings) -> None:
    slow = smol.with_overrides(llm={"timeout_s": 0.05, "max_retries": 0})
    client = LLMClient(slow)
    start = time.perf_counter()
    with pytest.raises(LLMUnavailable, match="timed out"):
        client.chat(_ask("Write a long story about a dragon."), max_tokens=64)
    assert time.perf_counter() - start < 5


def test_server_killed_midway_then_restarted(smol: Settings) -> None:
    settings = _settings(smol.data_dir, n_ctx=1024)  # its own shared server, not the module's
    server = get_local_server(settings)
    client = LLMClient(settings)
    pinned = LLMClient(settings, base_url=server.base_url)  # a client that cannot restart it
    stream = client.stream(_ask("Count from one to one hundred in words."), max_tokens=400)
    assert next(stream)
    assert server.pid is not None
    os.kill(server.pid, signal.SIGKILL)
    with pytest.raises(LLMUnavailable, match="stream"):
        for _ in stream:
            pass
    with pytest.raises(LLMUnavailable, match="cannot reach"):
        pinned.chat(_ask("Still there?"), max_tokens=4)
    assert client.chat(_ask("Still there?"), max_tokens=4)  # the local server is restarted
    assert server.is_running()
    server.stop()
    assert not server.is_running()


def test_startup_failure_reports_server_output(tmp_path: Path) -> None:
    _require_server()
    bogus = tmp_path / "bogus.gguf"
    bogus.write_bytes(b"GGUF" + b"\0" * 64)
    server = LocalLLMServer(bogus, threads=1, n_ctx=512, startup_timeout_s=60)
    with pytest.raises(LocalServerError, match="exited during startup") as err:
        server.start()
    assert "last output" in str(err.value) and len(str(err.value)) > 80
    assert not server.is_running()


@pytest.mark.slow_model
def test_qwen_answers_from_context(tmp_path_factory: pytest.TempPathFactory) -> None:
    _require_server()
    data_dir = Path(os.environ.get("SCHOLIUM_TEST_DATA_DIR") or tmp_path_factory.mktemp("qwen"))
    settings = _settings(data_dir, model="qwen2.5-coder-1.5b", n_ctx=4096)
    try:
        resolve_gguf(settings.local.model, settings.models_dir)
    except ModelNotInstalled as exc:
        pytest.skip(f"Qwen packages not installed: {exc}")
    settings = settings.with_overrides(llm={"timeout_s": 180.0, "max_tokens": 96})
    client = LLMClient(settings)
    context = (
        "[P1] LoRA: Low-Rank Adaptation of Large Language Models. We propose freezing the "
        "pretrained weights and injecting trainable rank decomposition matrices, reducing the "
        "number of trainable parameters by 10,000 times compared with GPT-3 175B fine-tuning.\n"
        "[P2] Attention Is All You Need. The Transformer achieves 28.4 BLEU on WMT 2014 "
        "English-to-German."
    )
    question = "By how much does LoRA reduce the number of trainable parameters?"
    messages = [
        {"role": "system", "content": "Answer only from the given papers and cite them as [P#]."},
        {"role": "user", "content": f"{context}\n\nQuestion: {question}"},
    ]
    try:
        text = client.chat(messages)
        assert "10,000" in text or "10000" in text, text
    finally:
        stop_local_servers()
