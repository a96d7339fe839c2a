"""``report.md`` and PNG plots from an evaluation result (the dict written to results.json)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from .aggregate import (
    GAP_THRESHOLD,
    RETRIEVAL_METRICS,
    RETRIEVAL_MODES,
    by_type_and_split,
    item_score,
    split_gaps,
    worst_items,
)

HEADLINE = [
    ("retrieval.hybrid.hit@5", "retrieval hit@5 (Scholium hybrid; baseline llama-index dense)"),
    ("retrieval.hybrid.mrr", "retrieval MRR (Scholium hybrid; baseline llama-index dense)"),
    ("fact_recall", "fact recall"),
    ("all_facts_rate", "all-facts rate"),
    ("abstain_rate_unanswerable", "abstain rate (unanswerable)"),
    ("false_abstention_rate", "false-abstention rate (answerable)"),
    ("citation_precision", "citation precision"),
    ("citation_precision_gold", "citation precision (gold only)"),
    ("citation_recall", "citation recall"),
    ("gold_cited_rate", "gold paper cited (answerable)"),
    ("multi_gold_recall", "multi: gold recall of cited papers"),
    ("compare_all_cited_rate", "compare: all compared works cited"),
    ("faithfulness_pipeline", "faithfulness — lexical+embedding judge"),
    ("faithfulness_strict", "faithfulness — strict lexical judge"),
    ("faithfulness_llm", "faithfulness — LLM judge"),
    ("dangling_markers", "dangling markers (total)"),
    ("errors", "errors"),
]
TYPE_COLUMNS = [
    ("n", "n"),
    ("retrieval.hybrid.hit@5", "hit@5"),
    ("retrieval.hybrid.mrr", "MRR"),
    ("fact_recall", "fact rec."),
    ("all_facts_rate", "all facts"),
    ("abstain_rate_unanswerable", "abstain (unans.)"),
    ("false_abstention_rate", "false abst."),
    ("citation_precision", "cit. P"),
    ("citation_recall", "cit. R"),
    ("gold_cited_rate", "gold cited"),
    ("faithfulness_pipeline", "faith. (lex+emb)"),
    ("faithfulness_strict", "faith. (strict)"),
    ("faithfulness_llm", "faith. (LLM)"),
]
DEFINITIONS = """\
**Retrieval** (papers, over questions with gold papers; follow-ups use the rule-based standalone
question `AnswerPipeline.standalone(q, history, "extractive")`; `Assistant.search(q, k=10, mode=...)`):
*hit@k* = 1 if a gold paper is in the top k; *recall@k* = share of gold papers in the top k;
*MRR* = 1/rank of the first gold paper in the top 10 (0 if none); *nDCG@10* = binary-relevance DCG of
the top 10 over the ideal DCG of min(|gold|, 10) gold papers. hit@k, recall@k and MRR are computed with
llama-index's `HitRate`, `Recall`, `MRR` classes; nDCG is our own because llama-index's `NDCG` normalises
by all gold papers even past the cut-off. The baseline ranks papers by their first chunk in llama-index's
default dense top-10 chunks (so it may list fewer than 10 papers).

**Citations** (answerable questions): *citation precision* = share of cited papers that are gold or,
for a non-gold paper, whose quote supports at least one sentence citing it (lexical+embedding judge);
*citation precision (gold only)* counts gold papers only; *citation recall* = share of gold papers
cited (0 for an abstention); *multi gold recall* = citation recall on `multi` questions;
*gold paper cited* = share of answerable questions where at least one gold paper is among the
answer's cited papers (`Answer.citations[i].paper_id`; 0 for an abstention); *all compared works
cited* = share of answerable `compare` questions where every gold paper is cited.
*Dangling markers* = `[n]` markers in the text with no citation plus citations never referenced
(summed over all answers; must be 0). The baseline has no markers: each of its sentences is taken to
cite all of its source nodes' papers (llama-index's default query engine retrieves the top 2 chunks),
and dangling markers do not apply. In extractive mode every
answer sentence *is* a sentence of the cited abstract (the baseline's answer is the cited chunk), so
judge-assisted citation precision and both offline faithfulness judges are 1.0 by construction there;
the gold-only precision and citation recall are the informative citation numbers in that mode.

**Faithfulness** = share of an answer's sentences supported by the abstracts of the papers they cite
(mean over non-abstained answers; a sentence citing nothing is unsupported). Judges:
*lexical+embedding* = Scholium's own `SupportScorer` (0.5 × best cosine + 0.5 × content-word
coverage, numbers verbatim, a named method mentioned) at the pipeline's threshold 0.45 — **not
independent of the pipeline's own checker**, so extractive answers pass it by construction;
*strict lexical* = independent: every number (with unit) and every method name of the sentence occurs
in the cited titles+abstracts, and ≥ 60 % of its content words do; *LLM* = RAGAS-style yes/no claim
verification per sentence by the model at `SCHOLIUM_EVAL_JUDGE_URL` (only when configured).

**Correctness**: *fact recall* = share of the question's key facts found (case-insensitive substring)
in the answer text (0 for an abstention), mean over answerable questions with facts; *all-facts rate* =
share of those questions with every fact present. *Abstain rate* = share of unanswerable questions
(`answerable: false`) where the system abstained; *false-abstention rate* = share of answerable
questions where it abstained. The baseline has no abstention flag: in llm mode its answer counts as an
abstention when it declines in words ("not mentioned", "does not provide", "Empty Response" ...).

**Latency**: p50/p95 seconds per stage from `Answer.timings` (embed_query, dense, lexical, fusion,
retrieve, evidence, generate, first_token, verify, total), over the answers that report the stage.
"""


def key_for(system: str, key: str) -> str:
    """The baseline only has llama-index's dense retrieval: its "hybrid" rows read ``dense``."""
    if system == "baseline" and key.startswith("retrieval.hybrid."):
        return key.replace("retrieval.hybrid.", "retrieval.dense.", 1)
    return key


def fmt(value: Any, digits: int = 3) -> str:
    """A table cell: ``n/a`` for ``None``, floats rounded, the rest as text."""
    if value is None:
        return "n/a"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A Markdown table."""
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    for row in rows:
        lines.append("| " + " | ".join(fmt(c) if not isinstance(c, str) else c for c in row) + " |")
    return "\n".join(lines)


def _cell(text: str, limit: int = 600) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def type_split_section(records: Sequence[Mapping[str, Any]], systems: Sequence[tuple[str, str]]) -> list[str]:
    """``## Per type: dev vs held-out``: for each question type, the main answer metrics on dev and
    held-out side by side, flagging a difference above ``GAP_THRESHOLD``."""
    parts = ["## Per type: dev vs held-out", ""]
    splits = {str(r["split"]) for r in records}
    if not {"dev", "heldout"} <= splits:
        only = ", ".join(sorted(splits)) or "none"
        return [
            *parts,
            f"Only the `{only}` split was evaluated; run with `--split all` to compare dev with held-out.",
            "",
        ]
    parts += [
        f"Held-out questions are never used for tuning (see `eval/README.md`). **⚠ gap** marks a "
        f"dev/held-out difference above {GAP_THRESHOLD:g} (absolute); with a handful of questions "
        "per cell a gap can be noise, but a systematic dev > held-out pattern suggests overfitting "
        "to dev. Δ = held-out − dev.",
        "",
    ]
    header = ["type", "metric", "n dev", "n held-out", "dev", "held-out", "Δ", f"gap > {GAP_THRESHOLD:g}"]
    for system, title in systems:
        if not any(system in r for r in records):
            continue
        rows = split_gaps(by_type_and_split([r for r in records if system in r], system))
        flagged = sum(1 for row in rows if row["gap"])
        table_rows = [
            [
                row["type"],
                row["label"],
                row["n_dev"],
                row["n_heldout"],
                row["dev"],
                row["heldout"],
                "n/a" if row["delta"] is None else f"{row['delta']:+.3f}",
                "⚠ gap" if row["gap"] else "",
            ]
            for row in rows
        ]
        parts += [
            f"### {title}",
            "",
            f"{flagged} of {len(rows)} type/metric cells differ by more than {GAP_THRESHOLD:g}.",
            "",
            table(header, table_rows),
            "",
        ]
    return parts


#: Thresholds at which the answerability section reports precision/recall.
CURVE_THRESHOLDS = (0.01, 0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 0.9, 0.95)


def answerability_section(records: Sequence[Mapping[str, Any]]) -> list[str]:
    """``## Answer or abstain``: precision/recall of "answerable" (answer when P >= t) per split at
    fixed thresholds, from the decision recorded with each answer (rag/answer/answerable.py)."""
    rows_in = []
    for r in records:
        decided = ((r.get("scholium") or {}).get("answer") or {}).get("answerability")
        if isinstance(decided, Mapping) and isinstance(decided.get("probability"), int | float):
            rows_in.append((str(r["split"]), bool(r["answerable"]), float(decided["probability"])))
    if not rows_in:
        return []
    used = next(
        (float(d["threshold"]) for r in records
         if isinstance(d := ((r.get("scholium") or {}).get("answer") or {}).get("answerability"), Mapping)),
        None,
    )  # fmt: skip
    parts = [
        "## Answer or abstain (calibrated decision)",
        "",
        "The pipeline abstains before generating when P(answerable) — a logistic model over "
        "retrieval and evidence features, fit on dev by `python -m eval.calibrate abstention` — is "
        f"below the threshold (in use: {fmt(used)}). Precision = share of answered questions that "
        "are answerable; recall = share of answerable questions answered; abstain = share of "
        "unanswerable questions abstained on *by this decision* (the answer stages may abstain too).",
        "",
    ]
    header = ["threshold", *[f"{s} P / R / abstain" for s in ("dev", "heldout", "all")]]
    table_rows = []
    for t in sorted({*CURVE_THRESHOLDS, *([used] if used is not None else [])}):
        cells: list[Any] = [f"{t:g}" + (" (in use)" if used is not None and abs(t - used) < 1e-9 else "")]
        for split in ("dev", "heldout", "all"):
            sel = [(a, p) for s, a, p in rows_in if split in ("all", s)]
            answered = [a for a, p in sel if p >= t]
            positives = sum(1 for a, _ in sel if a)
            negatives = [p for a, p in sel if not a]
            if not sel:
                cells.append("n/a")
                continue
            precision = sum(answered) / len(answered) if answered else 1.0
            recall = sum(answered) / positives if positives else 1.0
            abstain = sum(1 for p in negatives if p < t) / len(negatives) if negatives else 1.0
            cells.append(f"{precision:.3f} / {recall:.3f} / {abstain:.3f}")
        table_rows.append(cells)
    return [*parts, table(header, table_rows), ""]


def render_markdown(result: Mapping[str, Any], plots: Sequence[str]) -> str:
    """The whole report."""
    cfg = result["config"]
    agg = result["aggregates"]
    sch = agg["scholium"]
    base = agg.get("baseline")
    parts = [f"# Scholium evaluation — mode `{cfg['mode']}`, split `{cfg['split']}`", ""]
    limit = f", stratified limit {cfg['limit']}" if cfg.get("limit") else ""
    parts.append(
        f"{cfg['questions']} questions{limit}; answers in `{cfg['mode']}` mode"
        + (f" ({cfg['llm']})" if cfg.get("llm") else "")
        + f"; answer k = {cfg['answer_k']}, retrieval metrics at k = {cfg['retrieval_k']}; "
        + f"baseline: {'yes' if cfg['baseline'] else 'no'}; run took {cfg.get('seconds', 0):.0f} s."
    )
    git = cfg.get("git") or {}
    if git.get("commit"):
        dirty = f", with uncommitted changes to {len(git['changed'])} file(s)" if git.get("changed") else ""
        parts += ["", f"Code: commit `{git['commit']}`{dirty}."]
    parts += ["", "Judges:", ""]
    parts += [f"- `{name}`: {desc}" for name, desc in cfg["judges"].items()]
    gate = result.get("gate")
    if gate is not None:
        verdict = "passed" if gate["passed"] else "FAILED: " + "; ".join(gate["failures"])
        parts += ["", f"Gate (`{gate['thresholds']}`): **{verdict}**"]

    parts += ["", "## Headline (all selected questions)", ""]
    header = ["metric", "Scholium", *(["llama-index baseline"] if base else [])]
    rows = [
        [label, sch["overall"].get(key), *([base["overall"].get(key_for("baseline", key))] if base else [])]
        for key, label in HEADLINE
    ]
    parts.append(table(header, rows))

    parts += ["", "## Retrieval modes", ""]
    rows = [
        [mode, *[sch["overall"].get(f"retrieval.{mode}.{m}") for m in RETRIEVAL_METRICS]]
        for mode in RETRIEVAL_MODES
    ]
    if base:
        rows.append(
            [
                "llama-index default (dense chunks)",
                *[base["overall"].get(f"retrieval.dense.{m}") for m in RETRIEVAL_METRICS],
            ]
        )
    parts.append(table(["mode", *RETRIEVAL_METRICS], rows))
    winner = agg["retrieval_winner"]
    default = cfg.get("retrieval_mode_default", "hybrid")
    verdict = (
        f"The default `{default}` mode wins"
        if winner["winner"] == default
        else f"**`{winner['winner']}` beats the default `{default}`**"
    )
    per_metric = ", ".join(f"{m}: {w}" for m, w in winner["per_metric"].items())
    parts += [
        "",
        f"Best mode by {winner['by']}: **{winner['winner']}**. {verdict}. Per metric: {per_metric}.",
    ]
    if len(sch["by_split"]) > 1:
        parts += ["", "Retrieval per split (nDCG@10 / hit@5):", ""]
        rows = []
        for mode in RETRIEVAL_MODES:
            row: list[Any] = [mode]
            for split in sch["by_split"].values():
                ndcg, hit = split.get(f"retrieval.{mode}.ndcg@10"), split.get(f"retrieval.{mode}.hit@5")
                row.append(f"{fmt(ndcg)} / {fmt(hit)}")
            rows.append(row)
        parts.append(table(["mode", *sch["by_split"].keys()], rows))

    parts += ["", "## Per split", ""]
    for system, title, data in (("scholium", "Scholium", sch), ("baseline", "llama-index baseline", base)):
        if not data:
            continue
        splits = list(data["by_split"])
        groups = [data["by_split"][s] for s in splits] + [data["overall"]]
        rows = [
            [label, *[group.get(key_for(system, key)) for group in groups]]
            for key, label in [("n", "questions"), *HEADLINE]
        ]
        parts += [f"### {title}", "", table(["metric", *splits, "all"], rows), ""]

    systems = (("scholium", "Scholium", sch), ("baseline", "llama-index baseline", base))
    parts += ["## Per type", ""]
    for system, title, data in systems:
        if not data:
            continue
        rows = [
            [name, *[group.get(key_for(system, k)) for k, _ in TYPE_COLUMNS]]
            for name, group in data["by_type"].items()
        ]
        parts += [f"### {title}", "", table(["type", *[label for _, label in TYPE_COLUMNS]], rows), ""]

    parts += type_split_section(result["records"], [(s, t) for s, t, d in systems if d])
    parts += answerability_section(result["records"])

    parts += ["## Latency (seconds)", ""]
    for system, data in (("Scholium", sch), ("llama-index baseline", base)):
        if not data:
            continue
        rows = [[stage, v["n"], v["p50"], v["p95"]] for stage, v in data["latency"].items()]
        parts += [f"### {system}", "", table(["stage", "n", "p50", "p95"], rows), ""]

    if plots:
        parts += ["## Plots", ""] + [f"![{p}]({p})" for p in plots] + [""]

    parts += ["## Worst 10 items (Scholium)", ""]
    parts.append(
        "Item score: unanswerable → 1 if abstained else 0; answerable → 0 if abstained, else the mean "
        "of fact recall, citation recall and strict faithfulness."
    )
    for record in worst_items(result["records"], 10):
        m = record["scholium"]["metrics"]
        a = record["scholium"]["answer"]
        parts += [
            "",
            f"### {record['id']} ({record['type']}, {record['split']}) — score {item_score(record):.2f}",
            "",
            f"- **Q:** {_cell(record['question'], 400)}"
            + (
                f"  \n  (standalone: {_cell(record['standalone'], 300)})"
                if record["standalone"] != record["question"]
                else ""
            ),
            f"- **Expected:** answerable={record['answerable']}; gold={', '.join(record['gold']) or '—'}; "
            f"facts={', '.join(record['facts']) or '—'}",
            f"- **Answer** ({'abstained' if m['abstained'] else 'answered'}): {_cell(a['text'])}",
            *([f"- **Raw LLM output:** {_cell(a['raw_text'], 400)}"] if a.get("raw_text") else []),
            f"- **Cited:** {', '.join(a['cited']) or '—'}; hybrid top-5: "
            f"{', '.join(record['scholium']['retrieval']['hybrid']['ranked'][:5]) or '—'}",
            f"- fact recall {fmt(m['fact_recall'])}, citation P/R {fmt(m['citation_precision'])}/"
            f"{fmt(m['citation_recall'])}, faithfulness strict {fmt(m['faithfulness_strict'])}"
            + (f"; error: {a['error']}" if a.get("error") else ""),
            f"- Notes: {_cell(record['notes'], 300)}",
        ]
    parts += ["", "## Metric definitions", "", DEFINITIONS]
    return "\n".join(parts) + "\n"


def write_plots(result: Mapping[str, Any], out_dir: Path) -> list[str]:
    """``score_by_type.png``, ``latency.png`` and ``retrieval_modes.png``; returns their names."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    agg = result["aggregates"]
    sch = agg["scholium"]
    names: list[str] = []

    by_type = sch["by_type"]
    types = list(by_type)
    series = [
        ("retrieval.hybrid.hit@5", "hybrid hit@5"),
        ("fact_recall", "fact recall"),
        ("citation_recall", "citation recall"),
        ("faithfulness_strict", "faithfulness (strict)"),
        ("abstain_rate_unanswerable", "abstain rate (unanswerable)"),
    ]
    fig, ax = plt.subplots(figsize=(10, 4.5))
    width = 0.8 / len(series)
    for i, (key, label) in enumerate(series):
        values = [by_type[t].get(key) or 0.0 for t in types]
        ax.bar([x + i * width for x in range(len(types))], values, width, label=label)
    ax.set_xticks([x + 0.4 - width / 2 for x in range(len(types))], types)
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("score")
    ax.set_title(f"Scholium ({result['config']['mode']}) by question type")
    ax.legend(fontsize=8, ncol=3, loc="upper center", bbox_to_anchor=(0.5, -0.08))
    fig.tight_layout()
    fig.savefig(out_dir / "score_by_type.png", dpi=110)
    plt.close(fig)
    names.append("score_by_type.png")

    fig, ax = plt.subplots(figsize=(8, 4))
    for system, label in (("scholium", "Scholium"), ("baseline", "llama-index baseline")):
        totals = [
            float(r[system]["answer"]["timings"]["total"])
            for r in result["records"]
            if system in r and "total" in (r[system]["answer"].get("timings") or {})
        ]
        if totals:
            ax.hist(totals, bins=20, alpha=0.6, label=label)
    ax.set_xlabel("seconds per answer (total)")
    ax.set_ylabel("questions")
    ax.set_title("Answer latency")
    ax.legend()
    fig.tight_layout()
    fig.savefig(out_dir / "latency.png", dpi=110)
    plt.close(fig)
    names.append("latency.png")

    fig, ax = plt.subplots(figsize=(9, 4))
    rows: list[tuple[str, Any, str]] = [(mode, sch["overall"], mode) for mode in RETRIEVAL_MODES]
    if "baseline" in agg:
        rows.append(("llama-index default", agg["baseline"]["overall"], "dense"))
    width = 0.8 / len(rows)
    for i, (label, overall, mode) in enumerate(rows):
        values = [overall.get(f"retrieval.{mode}.{m}") or 0.0 for m in RETRIEVAL_METRICS]
        ax.bar([x + i * width for x in range(len(RETRIEVAL_METRICS))], values, width, label=label)
    ax.set_xticks([x + 0.4 - width / 2 for x in range(len(RETRIEVAL_METRICS))], RETRIEVAL_METRICS)
    ax.set_ylim(0, 1.05)
    ax.set_title("Retrieval by mode (paper level)")
    ax.legend(fontsize=8, ncol=4, loc="lower center")
    fig.tight_layout()
    fig.savefig(out_dir / "retrieval_modes.png", dpi=110)
    plt.close(fig)
    names.append("retrieval_modes.png")
    return names


def write_report(result: Mapping[str, Any], out_dir: Path) -> None:
    """Write the plots and ``report.md`` into ``out_dir``."""
    plots = write_plots(result, out_dir)
    (out_dir / "report.md").write_text(render_markdown(result, plots), encoding="utf-8")
