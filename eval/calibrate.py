"""Calibration on the dev split (never held-out: only ``tuning_questions`` is used here).

    python -m eval.calibrate abstention [--data-dir DIR] [--write]
    python -m eval.calibrate list [--data-dir DIR]
    python -m eval.calibrate crosslingual [--data-dir DIR] [--write]

``abstention``: the answer-or-abstain decision (:mod:`rag.answer.answerable`). For every dev
question the pipeline's plan and evidence are built (``AnswerPipeline.prepare``: no generation)
and the decision's features computed; a logistic regression (scikit-learn, balanced classes)
predicts "answerable". Its regularization is chosen by repeated stratified 5-fold
cross-validation (log loss), and the threshold from the *out-of-fold* probabilities: the highest
one whose false-abstention rate on answerable questions stays within ``FALSE_ABSTENTION_BUDGET``
(abstaining on a question the corpus answers costs the user more than an honest "not in the
corpus" that was avoidable). The final model is fit on all dev questions; ``--write`` saves it,
with the cross-validated precision/recall curve of "answerable", to
``rag/answer/answerability.json``.

``list``: which retrieved papers a list answer names (:mod:`rag.answer.membership`). For every dev
list question ("which papers ..."), every candidate paper's features are computed from its
evidence (sentence relevance relative to the best paper, 1/rank in each retriever) and labelled
by whether it is a gold paper; a logistic regression is fitted with repeated 5-fold
cross-validation *grouped by question* (a question's papers are never split between training and
test). Its regularization is chosen by out-of-fold log loss; the threshold is the one with the
best out-of-fold F2 over the pooled papers, recall counted against every gold paper, retrieved
or not (recall weighted twice: a list should be complete, and every listed paper comes with its
quoted sentences, so an extra one costs the reader little). ``--write`` saves the model fitted
on all dev list questions to ``rag/answer/list_membership.json``.

``crosslingual``: the scale of :class:`rag.answer.support.CrossLingualScorer` (relevance for a
question in another language). For every third dev question in English without history, each evidence
sentence gets both the English relevance (:meth:`SupportScorer.relevance`) and the multilingual
encoder's cosine; the linear map giving the cosines the mean and spread of the English relevance
is saved (``--write``) to ``rag/answer/crosslingual.json``, so the English floors hold for both.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from tqdm import tqdm

from rag import Assistant, Settings
from rag.answer import answerable, generate, membership, support
from rag.answer.language import is_english_text

from .dataset import tuning_questions


def list_data(assistant: Assistant) -> tuple[list[str], list[list[float]], list[int], dict[str, int]]:
    """(question id per candidate, feature rows in ``membership.FEATURES`` order, labels 1 = a
    gold paper, number of gold papers per question) over the dev list questions."""
    assistant.search("warm-up")
    floor = assistant.settings.answer.extractive_min_relevance
    ids, rows, labels, gold = [], [], [], {}
    for q in tuning_questions():
        if q.type != "multi":
            continue
        plan, evidence = assistant.pipeline.prepare(q.question, q.messages)
        if plan.kind != "list":
            continue  # answered by another plan: list membership does not decide it
        gold[q.id] = len(q.gold)
        candidates = generate.list_candidates(plan, evidence, floor)
        best = max((e.best_relevance for e in candidates), default=0.0)
        for item in candidates:
            values = membership.features(item, best)
            ids.append(q.id)
            rows.append([values[name] for name in membership.MembershipModel.FEATURES])
            labels.append(int(item.paper_id in q.gold))
    return ids, rows, labels, gold


def _grouped_out_of_fold(x: Any, y: Any, groups: Any, c: float) -> tuple[Any, float]:
    """Mean out-of-fold P(gold) per candidate over the repeats (folds split by question), and
    the mean log loss."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import log_loss

    questions = sorted(set(groups))
    total = np.zeros(len(y))
    losses = []
    for repeat in range(REPEATS):
        order = np.random.RandomState(repeat).permutation(questions)
        fold_of = {q: i % FOLDS for i, q in enumerate(order)}
        folds = np.array([fold_of[g] for g in groups])
        oof = np.zeros(len(y))
        for k in range(FOLDS):
            train, test = folds != k, folds == k
            fit = LogisticRegression(C=c, max_iter=1000).fit(x[train], y[train])
            oof[test] = fit.predict_proba(x[test])[:, 1]
        losses.append(log_loss(y, oof, labels=[0, 1]))
        total += oof
    return total / REPEATS, float(np.mean(losses))


def list_scores(listed: Any, y: Any, n_gold: int) -> dict[str, float]:
    """Precision, recall (against all ``n_gold`` gold papers) and F2 of the listed candidates."""
    import numpy as np

    hits, cited = int(np.sum(listed & (y == 1))), int(np.sum(listed))
    precision = hits / cited if cited else 0.0
    recall = hits / n_gold if n_gold else 0.0
    f2 = 5 * precision * recall / (4 * precision + recall) if precision + recall else 0.0
    return {"precision": round(precision, 4), "recall": round(recall, 4), "f2": round(f2, 4)}


def fit_membership(
    ids: list[str], rows: list[list[float]], labels: list[int], gold: dict[str, int]
) -> membership.MembershipModel:
    """Choose C and the threshold by grouped cross-validation, then fit on everything."""
    import numpy as np
    import sklearn
    from scipy.special import expit, logit
    from sklearn.linear_model import LogisticRegression

    x, y, groups = np.asarray(rows, dtype=float), np.asarray(labels), np.asarray(ids)
    n_gold = sum(gold.values())
    scores = {c: _grouped_out_of_fold(x, y, groups, c) for c in C_GRID}
    best_c = min(C_GRID, key=lambda c: scores[c][1])
    oof = scores[best_c][0]
    thresholds = sorted({float(t) for t in np.round(oof, 4)})
    points = [{"threshold": t, **list_scores(oof >= t, y, n_gold)} for t in thresholds]
    chosen = max(points, key=lambda p: (p["f2"], p["threshold"]))
    # The middle (in log-odds) between the chosen threshold and the next lower candidate's score.
    lower = max((t for t in thresholds if t < chosen["threshold"]), default=0.0)
    high = chosen["threshold"]
    threshold = high if lower <= 0 else float(expit((logit(lower) + logit(high)) / 2))
    relative_rule = list_scores(x[:, 0] >= 0.6, y, n_gold)  # the fixed rule it replaces
    final = LogisticRegression(C=best_c, max_iter=1000).fit(x, y)
    names = membership.MembershipModel.FEATURES
    weights = {name: round(float(w), 4) for name, w in zip(names, final.coef_[0], strict=True)}
    meta = {
        "fitted_on": {"split": "dev", "questions": len(gold), "candidates": len(y), "gold_papers": n_gold},
        "method": f"logistic regression, C={best_c} (by {REPEATS}x{FOLDS}-fold CV log loss, folds "
        "grouped by question); threshold: best out-of-fold F2 (recall against every gold paper), "
        "middle (log-odds) to the next lower score",
        "cv": {
            "log_loss_by_C": {str(c): round(scores[c][1], 4) for c in C_GRID},
            "at_threshold": {**chosen, "threshold": round(threshold, 4)},
            "relative_0.6_rule": relative_rule,
        },
        "sklearn": sklearn.__version__,
        "command": "python -m eval.calibrate list --write",
    }
    bias = round(float(final.intercept_[0]), 4)
    return membership.MembershipModel(weights, bias, round(threshold, 4), meta)


#: Largest acceptable share of answerable (dev, out-of-fold) questions that are abstained on.
FALSE_ABSTENTION_BUDGET = 0.05
C_GRID = (0.03, 0.1, 0.3, 1.0, 3.0, 10.0, 30.0, 100.0)
FOLDS, REPEATS = 5, 20


def abstention_data(assistant: Assistant) -> tuple[list[str], list[list[float]], list[int]]:
    """(question ids, feature rows in ``answerable.FEATURES`` order, labels 1 = answerable)."""
    assistant.search("warm-up")  # builds the index on first use
    ids, rows, labels = [], [], []
    for q in tuning_questions():
        plan, evidence = assistant.pipeline.prepare(q.question, q.messages)
        values = answerable.features(plan, evidence)
        ids.append(q.id)
        rows.append([values[name] for name in answerable.FEATURES])
        labels.append(int(q.answerable))
    return ids, rows, labels


def _out_of_fold(x: Any, y: Any, c: float) -> tuple[Any, float]:
    """Mean out-of-fold P(answerable) per question over the repeats, and the mean log loss."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import log_loss
    from sklearn.model_selection import StratifiedKFold

    total = np.zeros(len(y))
    losses = []
    for repeat in range(REPEATS):
        oof = np.zeros(len(y))
        folds = StratifiedKFold(n_splits=FOLDS, shuffle=True, random_state=repeat)
        for train, test in folds.split(x, y):
            fit = LogisticRegression(C=c, class_weight="balanced", max_iter=1000).fit(x[train], y[train])
            oof[test] = fit.predict_proba(x[test])[:, 1]
        losses.append(log_loss(y, oof, labels=[0, 1]))
        total += oof
    return total / REPEATS, float(np.mean(losses))


def curve(probabilities: Any, y: Any) -> list[dict[str, float]]:
    """Precision/recall of "answerable" (answer when P >= t) at each threshold t, plus the
    abstention rates a user sees: on unanswerable questions, and (false) on answerable ones."""
    import numpy as np

    points = []
    for t in sorted({0.0, *np.round(probabilities, 3).tolist()}):
        answered = probabilities >= t
        tp = int(np.sum(answered & (y == 1)))
        precision = tp / int(np.sum(answered)) if np.any(answered) else 1.0
        recall = tp / int(np.sum(y == 1))
        abstain = float(np.mean(~answered[y == 0])) if np.any(y == 0) else 0.0
        point = {"threshold": t, "precision": precision, "recall": recall}
        point |= {"abstain_unanswerable": abstain, "false_abstention": 1 - recall}
        points.append({k: round(v, 4) for k, v in point.items()})
    return points


def fit_abstention(ids: list[str], rows: list[list[float]], labels: list[int]) -> answerable.AbstentionModel:
    """Choose C and the threshold by cross-validation, then fit on everything (see module doc)."""
    import numpy as np
    import sklearn
    from scipy.special import expit, logit
    from sklearn.linear_model import LogisticRegression

    x, y = np.asarray(rows, dtype=float), np.asarray(labels)
    scores = {c: _out_of_fold(x, y, c) for c in C_GRID}
    best_c = min(C_GRID, key=lambda c: scores[c][1])
    oof = scores[best_c][0]
    points = curve(oof, y)
    # Within the budget, the thresholds that separate best (most abstentions on unanswerable
    # minus false abstentions: Youden's J) form an interval between two questions' scores; the
    # threshold is its middle in log-odds, as far as the dev data allows from both sides.
    allowed = [p for p in points if p["false_abstention"] <= FALSE_ABSTENTION_BUDGET]
    best_j = max(p["abstain_unanswerable"] - p["false_abstention"] for p in allowed)
    best = [p for p in allowed if p["abstain_unanswerable"] - p["false_abstention"] >= best_j - 1e-9]
    high = max(p["threshold"] for p in best)
    low = max(
        (p["threshold"] for p in points if p["threshold"] < min(b["threshold"] for b in best)), default=0.0
    )
    threshold = high if low <= 0 else float(expit((logit(low) + logit(high)) / 2))
    chosen = {**max(best, key=lambda p: p["threshold"]), "threshold": round(threshold, 4)}
    final = LogisticRegression(C=best_c, class_weight="balanced", max_iter=1000).fit(x, y)
    weights = {name: round(float(w), 4) for name, w in zip(answerable.FEATURES, final.coef_[0], strict=True)}
    meta = {
        "fitted_on": {"split": "dev", "questions": len(y), "unanswerable": int(np.sum(y == 0))},
        "method": f"logistic regression, class_weight=balanced, C={best_c} "
        f"(by {REPEATS}x{FOLDS}-fold CV log loss); "
        f"threshold: middle (log-odds) of the out-of-fold thresholds with the best Youden J and false "
        f"abstention <= {FALSE_ABSTENTION_BUDGET}",
        "cv": {
            "log_loss_by_C": {str(c): round(scores[c][1], 4) for c in C_GRID},
            "at_threshold": chosen,
            "curve": points,
        },
        "sklearn": sklearn.__version__,
        "command": "python -m eval.calibrate abstention --write",
    }
    return answerable.AbstentionModel(
        weights, round(float(final.intercept_[0]), 4), chosen["threshold"], meta
    )


def crosslingual_data(assistant: Assistant) -> tuple[list[float], list[float]]:
    """(multilingual cosine, English relevance) of every evidence sentence of the dev questions
    in English without history: the pairs the cross-language relevance scale is fit on."""
    index = assistant.pipeline.index
    store = index.crosslingual
    if store is None:
        raise SystemExit("the multilingual encoder cannot run here (see the log)")
    scorer = support.CrossLingualScorer(assistant.pipeline.scorer.embedder, store.encoder, scale=(0.0, 1.0))
    cosines: list[float] = []
    relevance: list[float] = []
    # Every third one (~90 questions, ~3,000 sentence pairs) is plenty for a map with two
    # parameters: the multilingual encoder takes ~0.15 s per new sentence on one core.
    questions = [q for q in tuning_questions() if not q.messages and is_english_text(q.question)][::3]
    for q in tqdm(questions, desc="dev questions", unit="question"):
        _, evidence = assistant.pipeline.prepare(q.question)
        for item in evidence.items:
            cosines.extend(scorer.cosines(q.question, item.sentences))
            relevance.extend(item.relevance)
    return cosines, relevance


def fit_scale(cosines: list[float], relevance: list[float]) -> dict[str, float]:
    """The linear map giving the cosines the mean and spread of the English relevance (the same
    z-score on both scales), with the correlation of the two for the record."""
    import numpy as np

    c, r = np.asarray(cosines), np.asarray(relevance)
    slope = float(r.std() / c.std())
    return {
        "intercept": round(float(r.mean() - slope * c.mean()), 4),
        "slope": round(slope, 4),
        "pairs": len(c),
        "correlation": round(float(np.corrcoef(c, r)[0, 1]), 4),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("what", choices=("abstention", "list", "crosslingual"))
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--write", action="store_true", help="save the fitted model into the package")
    args = parser.parse_args(argv)
    settings = Settings(progress=False, **({"data_dir": args.data_dir} if args.data_dir else {}))
    if args.what == "crosslingual":
        scale = fit_scale(*crosslingual_data(Assistant(settings)))
        print(f"cosine -> relevance: {scale}")
        if args.write:
            support.SCALE_FILE.write_text(json.dumps(scale, indent=1) + "\n", encoding="utf-8")
            print(f"wrote {support.SCALE_FILE}")
        return 0
    if args.what == "abstention":
        model = fit_abstention(*abstention_data(Assistant(settings)))
        cv = model.meta["cv"]
        print("C       CV log loss")
        for c, loss in cv["log_loss_by_C"].items():
            print(f"{c:7s} {loss:.4f}")
        print("\nthreshold  precision  recall  abstain(unanswerable)  false abstention   (out-of-fold, dev)")
        for p in cv["curve"]:
            print(f"{p['threshold']:9.3f}  {p['precision']:9.3f}  {p['recall']:6.3f}  "
                  f"{p['abstain_unanswerable']:21.3f}  {p['false_abstention']:.3f}")  # fmt: skip
        print(f"\nweights: {model.weights}  bias: {model.bias}  threshold: {model.threshold}")
        if args.write:
            path = Path(answerable.__file__).with_name("answerability.json")
            path.write_text(json.dumps(model.to_dict(), indent=1) + "\n", encoding="utf-8")
            print(f"wrote {path}")
        return 0
    members = fit_membership(*list_data(Assistant(settings)))
    cv = members.meta["cv"]
    print("C       CV log loss   (dev list questions, folds grouped by question)")
    for c, loss in cv["log_loss_by_C"].items():
        print(f"{c:7s} {loss:.4f}")
    print(f"\nout-of-fold at the threshold: {cv['at_threshold']}")
    print(f"fixed rule (relative relevance >= 0.6): {cv['relative_0.6_rule']}")
    print(f"weights: {members.weights}  bias: {members.bias}  threshold: {members.threshold}")
    if args.write:
        path = Path(membership.__file__).with_name("list_membership.json")
        path.write_text(json.dumps(members.to_dict(), indent=1) + "\n", encoding="utf-8")
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
