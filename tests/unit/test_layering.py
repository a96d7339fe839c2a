"""The library does not depend on the apps built on it: importing ``rag`` (API, CLI parsing,
commands) loads neither Gradio nor the UI or eval packages, nor the eval-only scikit-learn."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def test_importing_the_library_loads_no_app_code() -> None:
    code = (
        "import sys, rag, rag.cli, rag.commands, rag.export, rag.corpus\n"
        "from rag import Assistant, Settings\n"
        "Settings()\n"
        "apps = ('gradio', 'ui', 'eval', 'sklearn', 'fastapi')\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in apps]\n"
        "print(','.join(sorted(bad)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "", f"the library imported app modules: {out.stdout}"


def test_only_the_chroma_store_touches_the_collection_and_its_stamp() -> None:
    """One owner each: the Chroma collection object (``ChromaStore``), the ingest stamp's
    encoding (``rag.index.generation``)."""
    root = Path(__file__).resolve().parents[2]
    owners = {"rag/index/vector_store.py", "rag/index/generation.py"}
    offenders = []
    for path in sorted((root / "rag").rglob("*.py")) + sorted((root / "eval").rglob("*.py")):
        rel = path.relative_to(root).as_posix()
        if rel in owners:
            continue
        text = path.read_text(encoding="utf-8")
        for needle in (
            ".collection.",
            "._collection",
            "chroma_collection=",
            '"dirty-',
            "scholium_generation",
            '"CURRENT"',
        ):
            if needle in text:
                offenders.append(f"{rel}: {needle}")
    assert offenders == []
