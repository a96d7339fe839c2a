"""What each CLI subcommand does (argument parsing lives in ``cli``)."""

from __future__ import annotations

import argparse
import sys
import textwrap
from typing import Any

from .assistant import Assistant
from .retrieve import SearchFilters
from .settings import Settings
from .types import Answer, FinalAnswer, StatusEvent, TextDelta


def _filters(args: argparse.Namespace) -> SearchFilters:
    return SearchFilters(
        source=getattr(args, "source", None),
        category=getattr(args, "category", None),
        year_min=getattr(args, "year_min", None),
        year_max=getattr(args, "year_max", None),
        author=getattr(args, "author", None),
        venue=getattr(args, "venue", None),
    )


def format_answer(answer: Answer) -> str:
    """An answer with its reference list, for the terminal."""
    lines = [textwrap.fill(answer.text, 100)]
    if answer.translated_note:
        lines.append(f"\n({answer.translated_note})")
    if answer.corrected_note:
        lines.append(f"\n({answer.corrected_note})")
    if answer.notice:
        lines.append(f"\nNote: {answer.notice}")
    elif answer.mode.explanation and not answer.abstained:
        lines.append(f"\n({answer.mode.explanation})")
    if answer.citations:
        lines.append("\nReferences:")
        for c in answer.citations:
            lines.append(f"  [{c.marker}] {c.title}  ({c.paper_id}{', ' + c.url if c.url else ''})")
            lines.append(
                textwrap.fill(f'"{c.quote}"', 100, initial_indent="      ", subsequent_indent="      ")
            )
    elif answer.abstained and answer.sources:
        lines.append("\nClosest papers:")
        for s in answer.sources[:3]:
            lines.append(f"  - {s.title}  ({s.paper_id})")
    if answer.flagged:
        lines.append(f"\n({len(answer.flagged)} unsupported sentence(s) removed)")
    timing = ", ".join(f"{k} {v:.2f}s" for k, v in answer.timings.items() if k in ("first_token", "total"))
    lines.append(f"\n[{answer.mode.label}, {answer.mode.kind} question; {timing}]")
    return "\n".join(lines)


def render_answer(answer: Answer, fmt: str) -> str:
    """``answer`` in one of :data:`rag.export.ANSWER_FORMATS`."""
    import json

    if fmt == "json":
        return json.dumps(answer.to_dict(), indent=2, ensure_ascii=False)
    if fmt == "markdown":
        return answer.to_markdown()
    if fmt == "bibtex":
        return answer.to_bibtex()
    if fmt == "csl-json":
        return json.dumps(answer.to_csl_json(), indent=2, ensure_ascii=False)
    return format_answer(answer)


def _ask_one(
    assistant: Assistant, args: argparse.Namespace, question: str, history: list[dict[str, str]]
) -> Answer:
    answer: Answer | None = None
    streamed = False
    fmt = "json" if args.json else (getattr(args, "format", None) or "text")
    for event in assistant.stream(question, history=history, filters=_filters(args)):
        if isinstance(event, StatusEvent) and fmt == "text":
            print(f"… {event.message}", file=sys.stderr)
        elif isinstance(event, TextDelta) and fmt == "text" and sys.stderr.isatty():
            print(event.text, end="", file=sys.stderr, flush=True)
            streamed = True
        elif isinstance(event, FinalAnswer):
            answer = event.answer
    if streamed:
        print(file=sys.stderr)
    assert answer is not None
    if fmt == "json":
        from .cli import print_json

        print_json(answer.to_dict())
    else:
        print(render_answer(answer, fmt))
    return answer


def _app(module: str, name: str, command: str, extra: str, needs: tuple[str, ...]) -> Any:
    """A function of an app built on the library (the chat UI, the evaluation), imported only
    when its command runs; a missing optional dependency says which extra installs it."""
    import importlib

    try:
        for package in needs:
            importlib.import_module(package)
        return getattr(importlib.import_module(module), name)
    except ModuleNotFoundError as exc:
        raise RuntimeError(
            f"`scholium {command}` needs {exc.name or 'more packages'}: pip install 'scholium[{extra}]'"
        ) from None


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Run the parsed command; returns the exit code."""
    from .cli import print_json

    command = args.command
    if command == "chat":
        launch = _app("scholium_ui.app", "launch", "chat", "ui", ("gradio",))
        launch(settings)
        return 0
    if command == "eval":
        eval_main = _app("scholium_eval.run", "main", "eval", "eval", ())
        code: int = eval_main(args, settings)
        return code
    if command == "doctor":
        from .doctor import main as doctor_main

        return doctor_main(settings, as_json=args.json, llm=not args.no_llm)

    assistant = Assistant(settings)
    if command == "ingest":
        report = assistant.ingest(args.paths or None, prune=args.prune)
        encoded = assistant.prepare_crosslingual() if args.crosslingual else None
        if args.json:
            extra = {} if encoded is None else {"crosslingual_encoded": encoded}
            print_json({**report.to_dict(), **extra})
        else:
            for warning in report.warnings:
                print(f"warning: {warning}", file=sys.stderr)
            print(
                f"papers: {report.papers_seen} seen, {report.papers_new} new, "
                f"{report.papers_changed} changed, {report.papers_unchanged} unchanged, "
                f"{report.papers_removed} removed\n"
                f"chunks: {report.chunks_embedded} embedded, {report.chunks_deleted} deleted, "
                f"{report.chunks_total} in the index\n"
                f"the index holds {assistant.summary().describe()}"
            )
            if encoded is not None:
                print(f"cross-language search: {encoded} papers encoded")
        return 0
    if command == "stats":
        stats = assistant.stats()
        if args.json:
            print_json(stats)
        else:
            for key, value in stats.items():
                print(f"{key}: {value}")
        return 0
    if command == "delete":
        print(f"removed {assistant.delete(args.paper_ids)} chunks")
        return 0
    if command == "search":
        results = assistant.search(args.query, args.k, filters=_filters(args))
        if args.json:
            print_json([r.to_dict() for r in results])
        else:
            for rank, r in enumerate(results, 1):
                print(f"{rank}. {r.title}  [{r.paper_id}]  score {r.score:.4f}")
                print(
                    textwrap.fill(r.text, 100, initial_indent="     ", subsequent_indent="     ", max_lines=3)
                )
        return 0
    if command == "ask":
        if args.question:
            _ask_one(assistant, args, args.question, [])
            return 0
        history: list[dict[str, str]] = []
        print(f"Ask about {assistant.summary().describe()} (empty line or Ctrl-D to quit).", file=sys.stderr)
        while True:
            try:
                question = input("? ").strip()
            except EOFError:
                return 0
            if not question:
                return 0
            try:
                answer = _ask_one(assistant, args, question, history)
            except ValueError as exc:
                print(f"scholium: {exc}", file=sys.stderr)
                continue
            history += [{"role": "user", "content": question}, {"role": "assistant", "content": answer.text}]
    raise ValueError(f"unknown command {command}")
