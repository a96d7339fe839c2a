"""Evaluation metrics, judges, gate logic and the question loader, on hand-made inputs."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from eval.aggregate import (
    aggregate,
    by_type_and_split,
    gold_cited_share,
    item_score,
    retrieval_winner,
    split_gaps,
)
from eval.dataset import DatasetError, Question, load_questions, select, stratified
from eval.gate import check_gate, gate_for_mode, load_thresholds
from eval.judge import LLMJudge, Source, StrictJudge, judge_sentences, parse_yes_no, strict_verdict
from eval.metrics import (
    answer_sentences,
    citation_precision,
    citation_recall,
    dangling_markers,
    fact_recall,
    facts_found,
    hit_at,
    latency_table,
    looks_like_abstention,
    mean,
    ndcg_at,
    percentile,
    recall_at,
    reciprocal_rank,
    retrieval_scores,
)
from eval.report import type_split_section
from eval.scoring import SystemAnswer, sentence_citations

# -- retrieval ----------------------------------------------------------------------------------


def test_hit_at_k() -> None:
    ranked = ["a", "b", "c", "d", "e", "f"]
    assert hit_at(["c"], ranked, 1) == 0.0
    assert hit_at(["c"], ranked, 3) == 1.0
    assert hit_at(["a"], ranked, 1) == 1.0
    assert hit_at(["z"], ranked, 5) == 0.0
    assert hit_at(["f"], ranked, 5) == 0.0  # rank 6 is outside the top 5
    assert hit_at([], ranked, 5) == 0.0
    assert hit_at(["a"], [], 5) == 0.0


def test_recall_at_k() -> None:
    ranked = ["a", "x", "b", "y", "z", "c"]
    assert recall_at(["a", "b", "c"], ranked, 5) == pytest.approx(2 / 3)
    assert recall_at(["a", "b", "c"], ranked, 10) == 1.0
    assert recall_at(["a", "b", "c"], ranked, 1) == pytest.approx(1 / 3)
    # duplicates in the ranking do not count twice nor push others out of the cut-off
    assert recall_at(["a", "b"], ["a", "a", "b"], 2) == 1.0


def test_reciprocal_rank() -> None:
    assert reciprocal_rank(["c"], ["a", "b", "c"]) == pytest.approx(1 / 3)
    assert reciprocal_rank(["b", "c"], ["a", "b", "c"]) == pytest.approx(1 / 2)
    assert reciprocal_rank(["z"], ["a", "b"]) == 0.0
    assert reciprocal_rank(["k"], [*"abcdefghijk"], 10) == 0.0  # rank 11 is past the cut-off
    assert reciprocal_rank(["k"], [*"abcdefghijk"]) == pytest.approx(1 / 11)


def test_ndcg_at_k() -> None:
    assert ndcg_at(["a"], ["a", "b"], 10) == 1.0
    assert ndcg_at(["b"], ["a", "b"], 10) == pytest.approx(1 / math.log2(3))
    # two gold, found at ranks 1 and 3: (1 + 1/log2(4)) / (1 + 1/log2(3))
    assert ndcg_at(["a", "c"], ["a", "b", "c"], 10) == pytest.approx(1.5 / (1 + 1 / math.log2(3)))
    # the ideal DCG is capped at k: a perfect top-2 for 5 gold papers is 1.0
    assert ndcg_at(list("abcde"), ["a", "b"], 2) == pytest.approx(1.0)
    assert ndcg_at(["z"], ["a"], 10) == 0.0
    assert ndcg_at([], ["a"], 10) == 0.0


def test_retrieval_scores_keys_and_values() -> None:
    scores = retrieval_scores(["b"], ["a", "b", "c"])
    assert scores == {
        "hit@1": 0.0,
        "hit@5": 1.0,
        "recall@5": 1.0,
        "recall@10": 1.0,
        "mrr": 0.5,
        "ndcg@10": pytest.approx(1 / math.log2(3)),
    }


# -- citations ----------------------------------------------------------------------------------


def test_dangling_markers() -> None:
    assert dangling_markers("A [1]. B [2].", [1, 2]) == 0
    assert dangling_markers("A [1]. B [3].", [1, 2]) == 2  # [3] has no citation, citation 2 unused
    assert dangling_markers("A [1][2].", [1]) == 1
    assert dangling_markers("A [1, 2].", [1, 2]) == 0
    assert dangling_markers("No markers.", []) == 0
    assert dangling_markers("No markers.", [1]) == 1


def test_citation_precision_and_recall() -> None:
    assert citation_precision(["a", "b"], ["a"]) == 0.5
    assert citation_precision(["a", "b"], ["a"], supported=["b"]) == 1.0
    assert citation_precision(["a", "a", "b"], ["a"]) == 0.5  # a paper counts once
    assert citation_precision([], ["a"]) is None
    assert citation_recall(["a", "x"], ["a", "b", "c", "d"]) == 0.25
    assert citation_recall([], ["a"]) == 0.0
    assert citation_recall(["a"], []) is None


def test_answer_sentences_parse_markers() -> None:
    text = "Mix-LN mixes norms [1]. It scales to 7B [1][2].\n- A bullet without a marker."
    assert answer_sentences(text) == [
        ("Mix-LN mixes norms.", [1]),
        ("It scales to 7B.", [1, 2]),
        ("A bullet without a marker.", []),
    ]


def test_sentence_citations_markers_and_baseline() -> None:
    marked = SystemAnswer(
        text="One [1]. Two [2]. Three.", cited=["p1", "p2"], abstained=False, markers={1: "p1"}
    )
    assert sentence_citations(marked) == [("One.", ["p1"]), ("Two.", []), ("Three.", [])]
    plain = SystemAnswer(text="One. Two.", cited=["p1", "p2"], abstained=False, uses_markers=False)
    assert sentence_citations(plain) == [("One.", ["p1", "p2"]), ("Two.", ["p1", "p2"])]
    assert sentence_citations(SystemAnswer(text="x [1].", cited=[], abstained=True)) == []


# -- correctness --------------------------------------------------------------------------------


def test_fact_recall_case_insensitive_substring() -> None:
    text = "The network has only 354K parameters and uses D3Net  blocks."
    assert facts_found(text, ["354k", "d3net blocks", "ImageNet"]) == [True, True, False]
    assert fact_recall(text, ["354K", "D3Net"]) == 1.0
    assert fact_recall(text, ["354K", "70M to 7B"]) == 0.5
    assert fact_recall(text, []) is None
    assert fact_recall("", ["x"]) == 0.0


@pytest.mark.parametrize(
    ("text", "declines"),
    [
        ("The corpus does not answer this question.", True),
        ("The context does not provide the BLEU score.", True),
        ("The number of tokens is not mentioned in the context.", True),
        ("Empty Response", True),
        ("", True),
        ("ByteNet reaches state-of-the-art results on WMT En-De.", False),
        ("Mix-LN applies Post-LN to early layers and Pre-LN to deep layers.", False),
    ],
)
def test_looks_like_abstention(text: str, declines: bool) -> None:
    assert looks_like_abstention(text) is declines


def test_mean_percentile_latency() -> None:
    assert mean([1.0, None, 3.0]) == 2.0
    assert mean([None]) is None
    assert percentile([], 50) is None
    assert percentile([5.0], 95) == 5.0
    assert percentile([1.0, 2.0, 3.0, 4.0], 50) == 2.5
    assert percentile([float(i) for i in range(101)], 95) == pytest.approx(95.0)
    table = latency_table([{"total": 1.0, "generate": 0.5}, {"total": 3.0}])
    assert table["total"] == {"n": 2, "p50": 2.0, "p95": pytest.approx(2.9)}
    assert table["generate"]["n"] == 1


# -- judges -------------------------------------------------------------------------------------

ABSTRACT = (
    "We propose an end-to-end complex-valued network built on D3Net blocks for acoustic echo "
    "cancellation. The network has only 354K parameters and reaches 4.1 PESQ."
)


def test_strict_verdict_numbers_names_coverage() -> None:
    ok = strict_verdict("The D3Net-based echo cancellation network has only 354K parameters.", ABSTRACT)
    assert ok.supported and not ok.missing_numbers and not ok.missing_names
    wrong_number = strict_verdict("The D3Net echo cancellation network has 512K parameters.", ABSTRACT)
    assert wrong_number.missing_numbers == ("512k",) and not wrong_number.supported
    wrong_unit = strict_verdict("The network reaches 4.1% PESQ.", ABSTRACT)
    assert wrong_unit.missing_numbers == ("4.1%",)
    bare_ok = strict_verdict("The echo cancellation network has 354 thousand parameters.", ABSTRACT)
    assert bare_ok.missing_numbers == ()
    wrong_name = strict_verdict(
        "The D3Net and UniFormer echo cancellation network has 354K parameters.", ABSTRACT
    )
    assert wrong_name.missing_names == ("uniformer",) and not wrong_name.supported
    off_topic = strict_verdict("Transformers translate English to German with attention.", ABSTRACT)
    assert off_topic.coverage < 0.6 and not off_topic.supported


def test_strict_judge_and_judge_sentences() -> None:
    sources = {
        "p1": Source("p1", "Complex-valued AEC", ABSTRACT),
        "p2": Source("p2", "Other", "Unrelated text."),
    }
    sentences = [
        ("The echo cancellation network has only 354K parameters.", ["p1"]),
        ("The echo cancellation network has only 354K parameters.", ["p2"]),
        ("A claim citing nothing.", []),
    ]
    assert judge_sentences(sentences, sources, StrictJudge()) == [True, False, False]


class FakeClient:
    def __init__(self, replies: list[str]) -> None:
        self.replies = replies
        self.prompts: list[str] = []

    def chat(self, messages: Any, *, max_tokens: int | None = None, temperature: float | None = None) -> str:
        self.prompts.append(messages[0]["content"])
        return self.replies.pop(0)


def test_llm_judge_asks_per_sentence_and_parses() -> None:
    client = FakeClient(["Yes.", "no", "maybe"])
    judge = LLMJudge(client, "fake")
    source = [Source("p1", "Complex-valued AEC", ABSTRACT)]
    assert judge.supports("It has 354K parameters.", source) is True
    assert judge.supports("It has 1B parameters.", source) is False
    assert judge.supports("Unclear.", source) is None
    assert judge.supports("No sources.", []) is False
    assert len(client.prompts) == 3
    assert "354K parameters" in client.prompts[0] and "Complex-valued AEC" in client.prompts[0]
    assert parse_yes_no("**Yes**") is True and parse_yes_no("No, it does not.") is False


# -- aggregation and gate -----------------------------------------------------------------------


def _record(qid: str, qtype: str, answerable: bool, gold: list[str], **metrics: Any) -> dict[str, Any]:
    base = {"abstained": False, "fact_recall": None, "all_facts": None, "citation_recall": None}
    return {
        "id": qid,
        "type": qtype,
        "split": "dev",
        "answerable": answerable,
        "gold": gold,
        "scholium": {
            "retrieval": {"hybrid": retrieval_scores(gold, ["a", "b"])} if gold else {},
            "answer": {"timings": {"total": 1.0}, "error": None},
            "metrics": {**base, **metrics},
        },
    }


def test_aggregate_rates() -> None:
    records = [
        _record(
            "q1", "fact", True, ["a"], fact_recall=1.0, all_facts=1.0, citation_recall=1.0, dangling_markers=0
        ),
        _record(
            "q2", "fact", True, ["b"], abstained=True, fact_recall=0.0, all_facts=0.0, citation_recall=0.0
        ),
        _record("q3", "unanswerable", False, [], abstained=True, dangling_markers=0),
        _record("q4", "unanswerable", False, [], dangling_markers=2),
    ]
    out = aggregate(records)
    assert out["n"] == 4 and out["n_answerable"] == 2 and out["n_unanswerable"] == 2
    assert out["fact_recall"] == 0.5
    assert out["abstain_rate_unanswerable"] == 0.5
    assert out["false_abstention_rate"] == 0.5
    assert out["dangling_markers"] == 2
    assert out["retrieval.hybrid.hit@1"] == 0.5  # q1 gold at rank 1, q2 gold at rank 2
    assert out["retrieval.dense.hit@1"] is None
    assert item_score(records[1]) == 0.0 and item_score(records[2]) == 1.0 and item_score(records[3]) == 0.0


def _answered(
    qid: str,
    qtype: str,
    split: str,
    gold: list[str],
    cited: list[str],
    *,
    abstained: bool = False,
    **metrics: Any,
) -> dict[str, Any]:
    """A record whose answer cites ``cited`` (as ``Answer.citations`` paper ids end up in results.json)."""
    answerable = bool(gold)
    recall = None if not gold else (0.0 if abstained else len(set(gold) & set(cited)) / len(gold))
    record = _record(qid, qtype, answerable, gold, abstained=abstained, citation_recall=recall, **metrics)
    record["split"] = split
    record["scholium"]["answer"]["cited"] = cited
    return record


def test_gold_cited_and_compare_all_cited() -> None:
    records = [
        _answered("q1", "fact", "dev", ["a"], ["a", "x"]),
        _answered("q2", "fact", "dev", ["b"], ["x"]),
        _answered("q3", "compare", "dev", ["a", "b"], ["a"]),  # one of two compared works
        _answered("q4", "compare", "dev", ["a", "b"], ["b", "a"]),
        _answered("q5", "compare", "dev", ["a", "b"], ["a", "b"], abstained=True),  # abstention cites nothing
        _answered("q6", "unanswerable", "dev", [], []),
    ]
    assert gold_cited_share(records[2]) == 0.5
    assert gold_cited_share(records[4]) == 0.0
    assert gold_cited_share(records[5]) is None
    out = aggregate(records)
    assert out["gold_cited_rate"] == pytest.approx(3 / 5)  # q1, q3, q4 of the five answerable
    assert out["compare_all_cited_rate"] == pytest.approx(1 / 3)  # only q4
    # without ``cited`` in the record the same numbers come from citation_recall
    for record in records:
        del record["scholium"]["answer"]["cited"]
    again = aggregate(records)
    assert again["gold_cited_rate"] == out["gold_cited_rate"]
    assert again["compare_all_cited_rate"] == out["compare_all_cited_rate"]
    assert aggregate(records[:2])["compare_all_cited_rate"] is None  # no compare question


def _split_records() -> list[dict[str, Any]]:
    return [
        # fact: dev cites gold twice, held-out once of two -> gold-cited gap 0.5
        _answered("q1", "fact", "dev", ["a"], ["a"], fact_recall=1.0),
        _answered("q2", "fact", "dev", ["b"], ["b"], fact_recall=1.0),
        _answered("q3", "fact", "heldout", ["a"], ["a"], fact_recall=1.0),
        _answered("q4", "fact", "heldout", ["b"], ["x"], fact_recall=1.0),
        # unanswerable: both splits abstain -> no gap
        _answered("q5", "unanswerable", "heldout", [], [], abstained=True),
        _answered("q6", "unanswerable", "dev", [], [], abstained=True),
        # multi only on dev -> held-out n/a, no gap flag
        _answered("q7", "multi", "dev", ["a", "b"], ["a"]),
        # compare: gap of exactly 0.1 in fact recall is not flagged (strictly greater than 0.1)
        _answered("q8", "compare", "dev", ["a", "b"], ["a", "b"], fact_recall=0.6),
        _answered("q9", "compare", "heldout", ["a", "b"], ["a", "b"], fact_recall=0.5),
    ]


def test_by_type_and_split_and_gaps() -> None:
    table = by_type_and_split(_split_records())
    assert list(table) == ["fact", "multi", "compare", "unanswerable"]  # dataset type order
    assert list(table["fact"]) == ["dev", "heldout"] and list(table["multi"]) == ["dev"]
    assert table["fact"]["dev"]["gold_cited_rate"] == 1.0
    assert table["fact"]["heldout"]["gold_cited_rate"] == 0.5
    rows = {(r["type"], r["metric"]): r for r in split_gaps(table)}
    fact = rows[("fact", "gold_cited_rate")]
    assert (
        fact["delta"] == pytest.approx(-0.5) and fact["gap"] and (fact["n_dev"], fact["n_heldout"]) == (2, 2)
    )
    assert not rows[("fact", "fact_recall")]["gap"]
    unans = rows[("unanswerable", "abstain_rate_unanswerable")]
    assert (unans["dev"], unans["heldout"], unans["gap"]) == (1.0, 1.0, False)
    assert ("unanswerable", "fact_recall") not in rows  # measured in neither split
    multi = rows[("multi", "multi_gold_recall")]
    assert multi["dev"] == 0.5 and multi["heldout"] is None and multi["delta"] is None and not multi["gap"]
    assert rows[("compare", "fact_recall")]["delta"] == pytest.approx(-0.1)
    assert not rows[("compare", "fact_recall")]["gap"]
    assert rows[("compare", "compare_all_cited_rate")]["dev"] == 1.0
    assert any(r["gap"] for r in split_gaps(table, threshold=0.05) if r["metric"] == "fact_recall")


def test_report_type_split_section() -> None:
    lines = type_split_section(
        _split_records(), [("scholium", "Scholium"), ("baseline", "llama-index baseline")]
    )
    text = "\n".join(lines)
    assert text.startswith("## Per type: dev vs held-out")
    assert "### Scholium" in text and "llama-index baseline" not in text  # no baseline in the records
    table_lines = text.splitlines()
    assert "| type | metric | n dev | n held-out | dev | held-out | Δ | gap > 0.1 |" in table_lines
    gap_rows = [line for line in table_lines if line.endswith("| ⚠ gap |")]
    assert gap_rows == [
        "| fact | gold paper cited | 2 | 2 | 1.000 | 0.500 | -0.500 | ⚠ gap |",
        "| fact | citation recall | 2 | 2 | 1.000 | 0.500 | -0.500 | ⚠ gap |",
    ]
    assert "| multi | multi gold recall | 1 | 0 | 0.500 | n/a | n/a |  |" in table_lines
    assert "| compare | fact recall | 1 | 1 | 0.600 | 0.500 | -0.100 |  |" in table_lines
    assert "2 of " in text
    only_dev = type_split_section([r for r in _split_records() if r["split"] == "dev"], [("scholium", "S")])
    assert "Only the `dev` split was evaluated" in "\n".join(only_dev)


def test_retrieval_winner() -> None:
    overall = {
        "retrieval.dense.ndcg@10": 0.7,
        "retrieval.lexical.ndcg@10": 0.8,
        "retrieval.hybrid.ndcg@10": 0.75,
    }
    assert retrieval_winner(overall)["winner"] == "lexical"


def test_gate_min_max_and_missing() -> None:
    spec = {"min": {"fact_recall": 0.5, "retrieval.hybrid.hit@5": 0.8}, "max": {"dangling_markers": 0}}
    assert check_gate({"fact_recall": 0.6, "retrieval.hybrid.hit@5": 0.8, "dangling_markers": 0}, spec) == []
    failures = check_gate({"fact_recall": 0.4, "retrieval.hybrid.hit@5": 0.9, "dangling_markers": 1}, spec)
    assert len(failures) == 2
    assert any(f.startswith("fact_recall: 0.400 < min 0.500") for f in failures)
    assert any(f.startswith("dangling_markers") for f in failures)
    assert check_gate({"fact_recall": 0.6, "dangling_markers": 0}, spec) == [
        "retrieval.hybrid.hit@5: not measured (needs >= 0.8)"
    ]
    assert gate_for_mode({}, {"extractive": spec}, "llm") == ["no thresholds for mode 'llm'"]
    with pytest.raises(ValueError, match="unknown threshold section"):
        check_gate({}, {"minimum": {}})


def test_thresholds_file_is_consistent() -> None:
    thresholds = load_thresholds()
    for mode in ("extractive", "llm"):
        spec = thresholds[mode]
        assert spec["max"]["dangling_markers"] == 0
        assert 0 < spec["min"]["retrieval.hybrid.hit@5"] <= 1
        for value in [*spec["min"].values(), *spec["max"].values()]:
            assert isinstance(value, int | float)


# -- dataset ------------------------------------------------------------------------------------


def _q(qid: str, qtype: str, split: str = "dev") -> Question:
    return Question(id=qid, split=split, type=qtype, question=f"question {qid}?")


def test_stratified_round_robin_covers_every_type() -> None:
    questions = [_q("q1", "fact"), _q("q2", "fact"), _q("q3", "fact"), _q("q4", "lookup"), _q("q5", "multi")]
    assert [q.id for q in stratified(questions, 3)] == ["q1", "q4", "q5"]
    assert [q.id for q in stratified(questions, 4)] == ["q1", "q2", "q4", "q5"]
    assert [q.id for q in stratified(questions, None)] == ["q1", "q2", "q3", "q4", "q5"]
    assert stratified(questions, 0) == []


def test_select_split_then_limit() -> None:
    questions = [
        _q("q1", "fact", "heldout"),
        _q("q2", "fact"),
        _q("q3", "lookup"),
        _q("q4", "lookup", "heldout"),
    ]
    assert [q.id for q in select(questions, "dev")] == ["q2", "q3"]
    assert [q.id for q in select(questions, "heldout", 1)] == ["q1"]
    assert [q.id for q in select(questions, "all", 2)] == ["q1", "q3"]


def test_load_real_questions() -> None:
    questions = load_questions()
    assert len(questions) >= 100
    types = {q.type for q in questions}
    assert types == {"lookup", "fact", "multi", "compare", "unanswerable", "followup", "adversarial"}
    followup = next(q for q in questions if q.type == "followup")
    assert followup.messages and followup.messages[0]["role"] == "user"
    assert all(not q.gold for q in questions if not q.answerable)
    subset = select(questions, "all", 14)
    assert len(subset) == 14 and {q.type for q in subset} == types


def test_load_questions_rejects_bad_lines(tmp_path: Path) -> None:
    good = {"id": "q1", "split": "dev", "type": "fact", "question": "What?", "answerable": True}
    path = tmp_path / "q.jsonl"
    path.write_text(json.dumps(good) + "\n" + json.dumps({**good, "type": "riddle"}) + "\n")
    with pytest.raises(DatasetError, match=r"q\.jsonl:2: unknown type"):
        load_questions(path)
    path.write_text(json.dumps(good) + "\n" + json.dumps(good) + "\n")
    with pytest.raises(DatasetError, match="duplicate id q1"):
        load_questions(path)
    path.write_text("{not json\n")
    with pytest.raises(DatasetError, match=":1:"):
        load_questions(path)


def test_a_quoted_title_holding_a_question_mark_is_part_of_its_sentence() -> None:
    text = (
        "Is Complexity Required for Neural Network Pruning? A Case Study on Global Magnitude Pruning — "
        "Layer-collapse can be fixed in Global MP [1]. Unsupported claim. "
        "Another claim? Mix-LN — We do X [2]."
    )
    assert answer_sentences(text) == [
        (
            "Is Complexity Required for Neural Network Pruning? A Case Study on Global Magnitude Pruning — "
            "Layer-collapse can be fixed in Global MP.",
            [1],
        ),
        ("Unsupported claim.", []),
        ("Another claim? Mix-LN — We do X.", [2]),
    ]
