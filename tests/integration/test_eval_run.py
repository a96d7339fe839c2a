"""``eval.run.main`` end to end in extractive mode on a stratified subset of the question set."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from rag import Assistant, Settings

pytestmark = pytest.mark.integration


def test_eval_run_extractive_subset(
    full_assistant: Assistant, full_settings: Settings, tmp_path: Path
) -> None:
    from eval.run import main

    out = tmp_path / "report"
    thresholds = tmp_path / "thresholds.json"
    # A gate that must fail (hit@5 above 1) and one that must pass, to check the exit code.
    thresholds.write_text(json.dumps({"extractive": {"min": {"retrieval.hybrid.hit@5": 1.01}}}))
    args = argparse.Namespace(
        split="all", mode="extractive", limit=14, out=out, baseline=True, gate=True, thresholds=thresholds
    )
    assert main(args, full_settings) == 1

    for name in ("results.json", "report.md", "score_by_type.png", "latency.png", "retrieval_modes.png"):
        assert (out / name).is_file() and (out / name).stat().st_size > 0, name
    result = json.loads((out / "results.json").read_text())
    records = result["records"]
    assert len(records) == 14
    assert {r["type"] for r in records} == {
        "lookup", "fact", "multi", "compare", "unanswerable", "followup", "adversarial"
    }  # fmt: skip
    assert result["gate"]["passed"] is False and result["gate"]["failures"]

    overall = result["aggregates"]["scholium"]["overall"]
    for key, value in overall.items():
        if key.startswith(
            ("retrieval.", "fact_", "all_facts", "abstain", "false_", "citation", "faith", "multi")
        ):
            assert value is None or 0.0 <= value <= 1.0, key
    assert overall["errors"] == 0
    assert overall["dangling_markers"] == 0
    assert overall["retrieval.hybrid.hit@5"] >= 0.6
    assert overall["faithfulness_pipeline"] >= 0.9  # extractive answers quote their sources
    assert overall["faithfulness_llm"] is None  # no judge endpoint configured in tests
    baseline = result["aggregates"]["baseline"]["overall"]
    assert baseline["retrieval.dense.hit@5"] is not None and baseline["retrieval.hybrid.hit@5"] is None
    assert result["aggregates"]["retrieval_winner"]["winner"] in ("dense", "lexical", "hybrid")

    for record in records:
        answer = record["scholium"]["answer"]
        assert set(record["scholium"]["retrieval"]) == {"dense", "lexical", "hybrid"}
        assert "total" in answer["timings"]
        assert answer["abstained"] or answer["cited"]
        if record["type"] == "followup":
            assert record["standalone"] != record["question"]

    report = (out / "report.md").read_text()
    for heading in (
        "## Retrieval modes",
        "## Per type",
        "## Per split",
        "## Worst 10 items",
        "## Metric definitions",
    ):
        assert heading in report
    assert "not independent of the pipeline" in report

    thresholds.write_text(json.dumps({"extractive": {"min": {"retrieval.hybrid.hit@5": 0.1}, "max": {}}}))
    args.baseline = False
    args.limit = 7
    assert main(args, full_settings) == 0
