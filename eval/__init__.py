"""Evaluation of Scholium: retrieval, citations, faithfulness, correctness and latency.

``scholium eval`` (see :func:`eval.run.main`) scores the assistant on ``eval/questions.jsonl``
and writes ``results.json``, ``report.md`` and plots under ``eval/reports/<mode>-<split>/``.
"""
