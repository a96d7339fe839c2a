"""The ``scholium`` command line: ingest, search, ask, chat, stats, delete, eval, doctor.

Flags override environment variables, which override the config file (see ``Settings``).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .export import ANSWER_FORMATS
from .settings import Settings


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", help="TOML config file (default: ./scholium.toml if present)")
    parser.add_argument("--preset", help="named settings preset (default, fast, tiny-llm, openai)")
    parser.add_argument("--data-dir", help="where indexes and models are stored")
    parser.add_argument("--chroma-url", help="use a Chroma server (e.g. http://127.0.0.1:8000)")
    parser.add_argument("--collection", help="Chroma collection name")
    parser.add_argument("--log-level", help="DEBUG, INFO, WARNING (default), ERROR")
    parser.add_argument("--log-format", choices=["text", "json"])
    parser.add_argument("--no-progress", action="store_true", help="hide progress bars")


def _filters(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--k", type=int, help="number of papers")
    parser.add_argument("--source", help="only papers from this corpus file")
    parser.add_argument("--category", help="only papers in this arXiv category")
    parser.add_argument("--year-min", type=int)
    parser.add_argument("--year-max", type=int)
    parser.add_argument("--author", help="only papers with an author whose name contains this")
    parser.add_argument("--venue", help="only papers whose venue (journal, conference) contains this")
    parser.add_argument("--json", action="store_true", help="print JSON")


def _column_map(text: str) -> dict[str, str]:
    """``title=Paper,abstract=Summary`` → ``{"title": "Paper", "abstract": "Summary"}``."""
    out = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        field, eq, column = part.partition("=")
        if not eq or not field.strip() or not column.strip():
            raise argparse.ArgumentTypeError(f"expected FIELD=COLUMN, got {part!r}")
        out[field.strip()] = column.strip()
    return out


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (exposed for tests and docs)."""
    parser = argparse.ArgumentParser(prog="scholium", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("ingest", help="index corpus files (default: the configured corpus)")
    _common(p)
    p.add_argument(
        "paths",
        nargs="*",
        type=Path,
        help="files or folders: listing pages (.txt), arXiv JSON Lines (.jsonl), BibTeX (.bib), RIS (.ris), "
        "CSL-JSON or OpenAlex (.json), CSV/TSV",
    )
    p.add_argument("--prune", action="store_true", help="remove indexed papers not in PATHS")
    p.add_argument(
        "--crosslingual",
        action="store_true",
        help="also encode the papers for questions in other languages now (~1 s per paper, once; "
        "else on the first such question)",
    )
    p.add_argument(
        "--map",
        type=_column_map,
        metavar="FIELD=COLUMN,...",
        help="CSV/TSV column names, e.g. title=Paper,abstract=Summary (fields: title, abstract, authors, "
        "date, venue, doi, arxiv_id, url, keywords)",
    )
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("search", help="find the most relevant papers")
    _common(p)
    p.add_argument("query")
    p.add_argument("--mode", choices=["hybrid", "dense", "lexical"])
    _filters(p)

    p = sub.add_parser("ask", help="answer a question with citations (no question: interactive)")
    _common(p)
    p.add_argument("question", nargs="?")
    p.add_argument("--mode", choices=["llm", "extractive"])
    p.add_argument("--llm-url", help="OpenAI-compatible endpoint (default: embedded local model)")
    p.add_argument("--llm-model", help="model name at --llm-url")
    p.add_argument("--local-model", help="embedded model preset, GGUF path or hf:repo/file.gguf")
    p.add_argument("--threads", type=int, help="threads for the embedded model")
    p.add_argument(
        "--format",
        choices=list(ANSWER_FORMATS),
        help="text (default), json, markdown (answer + reference list), bibtex or csl-json (cited papers)",
    )
    _filters(p)

    p = sub.add_parser("chat", help="open the browser chat UI")
    _common(p)
    p.add_argument("--host")
    p.add_argument("--port", type=int)
    p.add_argument("--mode", choices=["llm", "extractive"])
    p.add_argument("--llm-url")
    p.add_argument("--llm-model")
    p.add_argument("--local-model")

    p = sub.add_parser("stats", help="what is indexed")
    _common(p)
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("delete", help="remove papers by id")
    _common(p)
    p.add_argument("paper_ids", nargs="+")

    p = sub.add_parser("eval", help="score the assistant on the evaluation set")
    _common(p)
    p.add_argument("--split", choices=["dev", "heldout", "all"], default="all")
    p.add_argument("--mode", choices=["llm", "extractive"], default="extractive")
    p.add_argument("--limit", type=int)
    p.add_argument("--out", type=Path, help="report folder (default eval/reports/<mode>-<split>)")
    p.add_argument("--baseline", action="store_true", help="also run the plain llama-index baseline")
    p.add_argument("--gate", action="store_true", help="exit 1 if below eval/thresholds.json")

    p = sub.add_parser("doctor", help="check the installation, models, index and endpoints; suggest fixes")
    _common(p)
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("--no-llm", action="store_true", help="do not start the embedded model (fast)")
    p.add_argument("--mode", choices=["llm", "extractive"], help="check this answer mode")
    p.add_argument("--llm-url", help="OpenAI-compatible endpoint to check")
    p.add_argument("--llm-model", help="model name at --llm-url")
    p.add_argument("--local-model", help="embedded model preset, GGUF path or hf:repo/file.gguf")
    p.add_argument("--threads", type=int, help="threads for the embedded model")
    return parser


def settings_from_args(args: argparse.Namespace) -> Settings:
    """Settings with the CLI flags applied on top of env/config/defaults."""
    if getattr(args, "config", None):
        os.environ["SCHOLIUM_CONFIG"] = args.config
    over: dict[str, Any] = {}

    def put(path: str, value: Any) -> None:
        if value is None:
            return
        node = over
        *parents, leaf = path.split(".")
        for key in parents:
            node = node.setdefault(key, {})
        node[leaf] = value

    put("preset", getattr(args, "preset", None))
    put("data_dir", getattr(args, "data_dir", None))
    put("chroma.url", getattr(args, "chroma_url", None))
    put("chroma.collection", getattr(args, "collection", None))
    put("log_level", getattr(args, "log_level", None))
    put("log_format", getattr(args, "log_format", None))
    if getattr(args, "no_progress", False):
        put("progress", False)
    put("retrieval.k", getattr(args, "k", None))
    put("corpus.columns", getattr(args, "map", None))
    mode = getattr(args, "mode", None)
    if args.command == "search":
        put("retrieval.mode", mode)
    elif args.command in ("ask", "chat", "eval", "doctor"):
        put("answer.mode", mode)
    put("llm.base_url", getattr(args, "llm_url", None))
    put("llm.model", getattr(args, "llm_model", None))
    put("local.model", getattr(args, "local_model", None))
    put("local.threads", getattr(args, "threads", None))
    put("ui.host", getattr(args, "host", None))
    put("ui.port", getattr(args, "port", None))
    return Settings(**over)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``scholium`` console script."""
    args = build_parser().parse_args(argv)
    try:
        settings = settings_from_args(args)
    except Exception as exc:  # validation errors: print them plainly
        print(f"scholium: invalid settings: {exc}", file=sys.stderr)
        return 2
    from .logs import configure_logging

    secrets = [s.get_secret_value() for s in (settings.llm.api_key, settings.embed.api_key) if s]
    configure_logging(settings.log_level, settings.log_format, secrets)
    from . import commands

    try:
        return commands.run(args, settings)
    except KeyboardInterrupt:
        return 130
    except (ValueError, FileNotFoundError, RuntimeError, OSError) as exc:
        print(f"scholium: error: {exc}", file=sys.stderr)
        return 1


def print_json(data: Any) -> None:
    """Pretty JSON on stdout."""
    print(json.dumps(data, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    raise SystemExit(main())
