"""``scholium doctor`` against real setups: an ingested corpus (embedded and `chroma run`), the
embedded llama.cpp server (the stand-in that crashes like an AMX-faulting CPU, and the real one
with SmolLM2-135M), and the console command."""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import chromadb
import httpx
import pytest

from rag import Assistant, Settings
from rag.cli import main
from rag.doctor import Check, exit_code, render_table, run_checks
from rag.generate.launch import PROFILE_FILE
from rag.generate.local_server import free_port
from rag.generate.model_files import ModelNotInstalled, resolve_gguf
from rag.index.generation import GENERATION_KEY, published_stamp
from tests.support.chroma import ChromaServer

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
STANDIN = "tests.standin_llama_server"


def by_name(checks: list[Check]) -> dict[str, Check]:
    return {c.name: c for c in checks}


def index_state(settings: Settings) -> dict[str, Any]:
    """What an index check must not change: collections, chunk count, ingest stamp, BM25 pointer."""
    client = chromadb.PersistentClient(path=str(settings.chroma_path))
    names = sorted(c.name for c in client.list_collections())
    collection = client.get_collection(settings.chroma.collection)
    return {
        "collections": names,
        "count": collection.count(),
        "generation": (collection.metadata or {}).get(GENERATION_KEY),
        "lexical": published_stamp(settings.index_dir, settings.retrieval.lexical_backend),
    }


def assert_stopped(base_url: str) -> None:
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{base_url}/models", timeout=2.0)


@pytest.fixture
def ingested(small_settings: Settings) -> Settings:
    """The 6-paper corpus ingested into an embedded store; extractive answers."""
    settings = small_settings.with_overrides(answer={"mode": "extractive"})
    Assistant(settings).ingest()
    return settings


def test_healthy_extractive_setup(ingested: Settings) -> None:
    before = index_state(ingested)
    checks = run_checks(ingested)
    table = render_table(checks, width=1000)  # no wrapping: phrases stay on one line
    assert exit_code(checks) == 0, table
    rows = by_name(checks)
    index = rows["index"]
    assert index.status == "ok", table
    stats = Assistant(ingested).stats()
    assert index.data["papers"] == stats["papers"] == 6
    assert index.data["paper_records"] == 6
    assert index.data["chunks"] == stats["chunks"]
    assert index.data["dimension"] == rows["embedding"].data["dimension"] == 384
    assert f"6 papers, {stats['chunks']} chunks" in table
    assert "lexical index current" in table
    assert rows["LLM model file"].status == "skip"
    assert index_state(ingested) == before  # checking changed nothing


def test_missing_collection_is_reported_not_created(ingested: Settings) -> None:
    other = ingested.with_overrides(chroma={"collection": "never-ingested"})
    checks = run_checks(other, llm=False)
    index = by_name(checks)["index"]
    assert index.status == "warn" and "no collection 'never-ingested'" in index.detail
    assert index.fix and "scholium ingest" in index.fix
    assert "never-ingested" not in index_state(ingested)["collections"]


def test_chroma_server_setup(ingested: Settings, chroma: ChromaServer) -> None:
    settings = ingested.with_overrides(chroma={"url": chroma.url})
    empty = run_checks(settings, llm=False)
    assert by_name(empty)["chroma store"].status == "ok"
    assert by_name(empty)["index"].status == "warn"  # nothing ingested into the server yet ...
    assert chromadb.HttpClient(port=chroma.port).list_collections() == []  # ... and nothing created
    Assistant(settings).ingest()
    checks = run_checks(settings, llm=False)
    rows = by_name(checks)
    assert rows["chroma store"].status == "ok" and chroma.url in rows["chroma store"].detail
    assert rows["index"].status == "ok" and rows["index"].data["papers"] == 6
    assert exit_code(checks) == 0


# -- the embedded server ------------------------------------------------------------------------


@pytest.fixture
def standin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    """Settings whose local server is the crash-simulating stand-in, over an empty data dir."""
    model = tmp_path / "fake.gguf"
    model.write_bytes(b"GGUF" + b"\0" * 60)
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    monkeypatch.setenv("STANDIN_LOG", str(tmp_path / "launches.jsonl"))
    monkeypatch.chdir(ROOT)
    local = {"model": str(model), "threads": 2, "server_module": STANDIN, "self_test_timeout_s": 20,
             "startup_timeout_s": 30}  # fmt: skip
    opts: dict[str, Any] = {"data_dir": tmp_path / "data", "progress": False, "local": local}
    yield Settings(**opts)


def test_self_healed_server_is_reported_and_remembered(
    standin: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STANDIN_CRASH", "default")  # SIGSEGV with extra buffer types on
    checks = run_checks(standin)
    rows = by_name(checks)
    server = rows["llama.cpp server"]
    assert server.status == "warn", render_table(checks)
    assert server.data["configuration"] == "no-extra-buffers"
    assert "no-extra-buffers (extra buffer types off, 2 threads, mmap)" in server.detail
    assert "SIGSEGV" in server.detail and server.data["failures"][0].startswith("default:")
    assert server.fix and "EXTRA_BUFFERS=off" in server.fix
    speed = rows["LLM speed"]
    assert speed.status == "ok" and speed.data["prompt_tps"] > 0
    profile = rows["launch profile"]
    assert "remembered configuration: no-extra-buffers" in profile.detail
    assert "1 failed launch(es) recorded" in profile.detail
    assert (standin.models_dir / PROFILE_FILE).is_file()
    assert exit_code(checks) == 0  # it works: a warning, not a failure
    assert_stopped(server.data["base_url"])

    again = by_name(run_checks(standin))["llama.cpp server"]  # straight to the remembered one
    assert again.status == "ok" and again.data["failures"] == []
    assert again.data["configuration"] == "no-extra-buffers"


def test_server_crashing_everywhere_fails(standin: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STANDIN_CRASH", "always")
    checks = run_checks(standin)
    server = by_name(checks)["llama.cpp server"]
    assert server.status == "fail" and server.needed
    assert "every configuration" in server.detail
    assert server.fix and "SCHOLIUM_LLM__BASE_URL" in server.fix
    assert "LLM speed" not in by_name(checks)
    assert exit_code(checks) == 1


def test_real_server_reports_configuration_and_speed(tmp_path: Path) -> None:
    if importlib.util.find_spec("llama_cpp") is None:
        pytest.skip("llama-cpp-python[server] is not installed")
    opts: dict[str, Any] = {
        "data_dir": tmp_path / "data",
        "progress": False,
        "answer": {"mode": "llm"},
        "local": {"model": "smollm2-135m", "threads": 1, "n_ctx": 2048},
    }
    settings = Settings(**opts)
    try:
        resolve_gguf(settings.local.model, settings.models_dir)
    except ModelNotInstalled as exc:
        pytest.skip(str(exc))
    checks = run_checks(settings)
    table = render_table(checks, width=1000)
    rows = by_name(checks)
    server = rows["llama.cpp server"]
    assert server.status in ("ok", "warn"), table
    assert server.data["configuration"] in ("default", "no-extra-buffers", "minimal")
    assert f"with configuration {server.data['described']}" in server.detail
    assert f"with configuration {server.data['configuration']} (" in table
    speed = rows["LLM speed"]
    assert speed.status in ("ok", "warn"), table
    assert speed.data["prompt_tps"] > 0 and speed.data["generation_tps"] > 0
    assert speed.data["prompt_tokens"] > 200  # the ~250-word prompt was really sent
    assert "tokens/s" in table
    assert f"remembered configuration: {server.data['configuration']}" in rows["launch profile"].detail
    assert exit_code(checks) == 0, table
    assert_stopped(server.data["base_url"])


# -- the console command ------------------------------------------------------------------------


def test_cli_doctor_table(
    ingested: Settings, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "300")  # the table's width: wide enough for no wrapping
    code = main(["doctor", "--no-llm", "--mode", "extractive", "--data-dir", str(ingested.data_dir)])
    out = capsys.readouterr().out
    assert code == 0, out
    assert out.splitlines()[0].startswith("answer.mode=extractive")
    assert "STATUS" in out and "CHECK" in out and "DETAIL" in out
    assert "6 papers" in out
    assert "all needed checks passed" in out


def test_cli_doctor_json_no_llm(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["doctor", "--no-llm", "--json", "--mode", "llm", "--data-dir", str(tmp_path / "d")])
    report = json.loads(capsys.readouterr().out)
    assert report["exit_code"] == code
    rows = {c["name"]: c for c in report["checks"]}
    assert rows["llama.cpp server"] == {**rows["llama.cpp server"], "status": "skip"}
    assert "--no-llm" in rows["llama.cpp server"]["detail"]
    assert {"python", "package chromadb", "embedding", "chroma store", "index", "data dir"} <= set(rows)


def test_cli_doctor_exit_code_for_a_dead_endpoint(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"http://127.0.0.1:{free_port()}/v1"
    code = main(["doctor", "--mode", "llm", "--llm-url", url, "--data-dir", str(tmp_path / "d")])
    out = capsys.readouterr().out
    assert code == 1
    assert "FAIL" in out and "LLM endpoint" in out and "unreachable" in out
