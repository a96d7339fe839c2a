"""The `scholium` console script as a user runs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from rag import Assistant, Settings

pytestmark = pytest.mark.integration


def scholium(settings: Settings, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SCHOLIUM_DATA_DIR": str(settings.data_dir), "SCHOLIUM_PROGRESS": "false"}
    return subprocess.run(
        [sys.executable, "-m", "rag.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        input=stdin,
    )


def test_search_lists_mix_ln_first(full_assistant: Assistant) -> None:
    out = scholium(full_assistant.settings, "search", "normalization mixing pre-LN and post-LN across depth")
    assert out.returncode == 0, out.stderr
    first = out.stdout.splitlines()[0]
    assert first.startswith("1. Mix-LN: Unleashing the Power of Deeper Layers")


def test_search_json_and_filters(full_assistant: Assistant) -> None:
    out = scholium(
        full_assistant.settings,
        "search",
        "graph neural networks",
        "--k",
        "3",
        "--json",
        "--source",
        "002_12734c39322a18c7.txt",
    )
    assert out.returncode == 0, out.stderr
    results = json.loads(out.stdout)
    assert len(results) == 3
    assert all("002_12734c39322a18c7.txt" in r["metadata"]["sources"] for r in results)
    assert {"paper_id", "title", "score", "text"} <= set(results[0])


def test_ingest_twice_then_stats(copy_of_full_index: Settings) -> None:
    first = scholium(copy_of_full_index, "ingest", "--json")
    assert first.returncode == 0, first.stderr
    report = json.loads(first.stdout)
    assert report["chunks_embedded"] == 0 and report["papers_seen"] == 260
    second = scholium(copy_of_full_index, "ingest")
    assert "0 embedded" in second.stdout
    assert f"{report['chunks_total']} in the index" in second.stdout
    assert "the index holds 260 papers from 3 files (000_" in second.stdout
    stats = scholium(copy_of_full_index, "stats")
    assert "papers: 260" in stats.stdout


def test_interactive_ask_names_the_collection(full_assistant: Assistant) -> None:
    out = scholium(full_assistant.settings, "ask", "--mode", "extractive", stdin="What is Mix-LN?\n\n")
    assert out.returncode == 0, out.stderr
    assert "Ask about 260 papers from 3 files (000_" in out.stderr
    assert "Mix-LN" in out.stdout


def test_ask_extractive(full_assistant: Assistant) -> None:
    q = "How many parameters does the complex-valued AEC network built on D3Net blocks have?"
    out = scholium(full_assistant.settings, "ask", "--mode", "extractive", "--json", q)
    assert out.returncode == 0, out.stderr
    answer = json.loads(out.stdout)
    assert "354K" in answer["text"] and not answer["abstained"]
    assert answer["citations"][0]["title"].startswith("End-to-End Complex-Valued")


def test_ask_prints_bibtex_of_the_cited_papers(full_assistant: Assistant) -> None:
    q = "How many parameters does the complex-valued AEC network built on D3Net blocks have?"
    out = scholium(full_assistant.settings, "ask", "--mode", "extractive", "--format", "bibtex", q)
    assert out.returncode == 0, out.stderr
    assert out.stdout.lstrip().startswith("@misc{") and "End-to-End Complex-Valued" in out.stdout
    assert "…" not in out.stdout  # progress goes to stderr only in text format


def test_bad_input_gives_a_clear_error(full_assistant: Assistant, tmp_path: object) -> None:
    out = scholium(full_assistant.settings, "ask", "--mode", "extractive", "   ")
    assert out.returncode == 1 and "question is empty" in out.stderr and "Traceback" not in out.stderr
    out = scholium(full_assistant.settings, "ingest", "/no/such/path")
    assert out.returncode == 1 and "does not exist" in out.stderr and "Traceback" not in out.stderr
    out = scholium(full_assistant.settings, "search", "x", "--k", "notanumber")
    assert out.returncode == 2
