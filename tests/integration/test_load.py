"""Short load tests (``-m load``): many chat sessions at once against the Gradio app (HTTP on
127.0.0.1) and the Python API, sharing one Assistant — no errors, no mixed-up answers, and
memory that stays bounded. ``python -m bench.load`` is the long version (results in
``bench/results/load_*.md``); both use the same sessions and checks (bench/load.py).

The reports of these runs are written to ``artifacts/`` (gitignored) for CI to keep.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

import pytest

from bench.load import markdown, run_load
from rag import Assistant, Settings
from rag.generate.local_server import (
    ensure_local_server,
    get_local_server,
    stop_local_servers,
)
from rag.generate.model_files import ModelNotInstalled, resolve_gguf

pytestmark = [pytest.mark.integration, pytest.mark.load]

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"
MAX_RSS_GROWTH_MB = 100.0
MAX_RETAINED_MB = 40.0


def _keep(name: str, data: dict[str, Any]) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / f"{name}.json").write_text(json.dumps(data, indent=2, default=str))
    (ARTIFACTS / f"{name}.md").write_text(markdown(data))


def _assert_clean(data: dict[str, Any], answers: int) -> None:
    assert data["errors"] == 0, data["error_examples"]
    assert data["mixed_up"] == 0, data["mixed_up_examples"]
    assert data["unfinished_sessions"] == 0 and not data["hard_stopped"]
    assert data["answers"] == answers
    assert data["latency_by_client"]["ui"]["turns"] and data["latency_by_client"]["api"]["turns"]


def test_twenty_extractive_sessions(full_assistant: Assistant) -> None:
    """20 sessions (10 over HTTP, 10 through the API) × a 3-turn conversation each, at once,
    twice: a warm-up round, then the measured one (memory must not grow between them)."""
    data = run_load(
        full_assistant,
        sessions=20,
        turns=3,
        conversations_per_session=1,
        max_turns=3,
        warm_turns=3,
        duration=240,
        hard_stop=120,
        mode="extractive",
    )
    _keep("load-test-extractive", data)
    _assert_clean(data, answers=60)
    warm = data["warm_up"]["concurrent_round"]
    assert warm["answers"] == 60 and warm["errors"] == warm["mixed_up"] == 0, warm
    rss = data["rss_mb"]
    assert rss["growth"] < MAX_RSS_GROWTH_MB, rss  # raw, allocator caches included
    assert rss["retained"] < MAX_RETAINED_MB, rss  # after gc + malloc_trim: what is still in use


def test_four_sessions_with_the_embedded_llm(copy_of_full_index: Settings) -> None:
    """4 sessions (2 over HTTP, 2 through the API) asking the embedded LLM at once (SmolLM2-135M:
    the plumbing, not answer quality): every answer comes from the LLM, none falls back.

    llama-cpp-python's server ends a streaming answer early as soon as another request waits
    unless it runs with ``--interrupt_requests False``; then all but the last of concurrent
    answers fell back to extractive ones."""
    if importlib.util.find_spec("llama_cpp") is None:
        pytest.skip("llama-cpp-python[server] is not installed")
    settings = copy_of_full_index.with_overrides(  # a copy: the model files go to data_dir/models
        local={"model": "smollm2-135m", "threads": 1, "n_ctx": 4096},
        llm={"max_tokens": 48, "timeout_s": 120.0},
        answer={"evidence_token_budget": 600},  # a shorter prompt: quicker on one thread
    )
    try:
        resolve_gguf(settings.local.model, settings.models_dir)
    except ModelNotInstalled as exc:
        pytest.skip(str(exc))
    ensure_local_server(settings)
    try:
        data = run_load(
            Assistant(settings),
            sessions=4,
            turns=1,
            conversations_per_session=1,
            max_turns=1,
            duration=240,
            hard_stop=120,
            mode="llm",
            llm_pid=get_local_server(settings).pid,
        )
    finally:
        stop_local_servers()
    _keep("load-test-llm", data)
    _assert_clean(data, answers=4)
    assert data["fallbacks"] == 0, "answers fell back to extractive"
