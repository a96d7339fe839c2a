"""Concurrent use of one index: the chat UI and a scripted Python client asking at the same
moment, and (server mode) an ingest in another process while questions are being answered.
No errors, every answer is its own question's, and papers ingested meanwhile become findable
by the Assistant that was already serving."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import traceback
from pathlib import Path
from typing import Any

import pytest

from rag import Assistant, Settings
from rag.generate.local_server import free_port
from rag.index import store as index_store
from rag.types import Paper
from tests.conftest import write_listing
from tests.support.chroma import ChromaServer
from tests.support.sessions import (
    TurnResult,
    api_session,
    check,
    conversations,
    expected_answers,
    ui_session,
)
from ui.app import build_app, serve

pytestmark = pytest.mark.integration

NO_DEADLINE = float("inf")


def test_ui_and_python_api_at_the_same_time(full_assistant: Assistant) -> None:
    """Three browser sessions (HTTP, gradio_client) and three scripted API clients, released
    together, each hold a two-turn conversation about a different paper while a fourth script
    searches: every answer equals the one its question gets alone."""
    assistant = full_assistant
    convs = conversations(6, 2)
    expected, _ = expected_answers(assistant, convs, "extractive")  # also warms the caches
    titles = [(p.id, p.title) for p in assistant.papers([c.paper_id for c in convs]).values()]
    demo = build_app(assistant)
    _, url, _ = serve(demo, assistant.settings.ui, port=free_port(), prevent_thread_lock=True, quiet=True)
    results: list[TurnResult] = []
    search_failures: list[str] = []
    lock = threading.Lock()
    start = threading.Barrier(7)
    done = threading.Event()

    def ui(n: int) -> None:
        start.wait()
        got = ui_session(url, n, [convs[n]], "extractive", 5, NO_DEADLINE, 2)
        with lock:
            results.extend(got)

    def api(n: int) -> None:
        start.wait()
        got = api_session(assistant, n, [convs[n]], "extractive", NO_DEADLINE, 2)
        with lock:
            results.extend(got)

    def searcher() -> None:
        start.wait()
        i = 0
        while not done.is_set():
            paper_id, title = titles[i % len(titles)]
            i += 1
            try:
                hits = assistant.search(title, k=3)
                if hits[0].paper_id != paper_id:
                    got = [(h.paper_id, [(c.dense_score, c.lexical_score) for c in h.chunks]) for h in hits]
                    search_failures.append(f"{title!r} ({paper_id}) → {got}")
            except Exception:
                search_failures.append(traceback.format_exc(limit=-8))

    threads = [threading.Thread(target=ui, args=(n,)) for n in range(3)]
    threads += [threading.Thread(target=api, args=(n,)) for n in range(3, 6)]
    script = threading.Thread(target=searcher)
    try:
        for t in [*threads, script]:
            t.start()
        for t in threads:
            t.join(300)
        done.set()
        script.join(30)
    finally:
        done.set()
        demo.close()
    assert not any(t.is_alive() for t in threads), "a session hung"
    assert len(results) == 12 and {r.via for r in results} == {"ui", "api"}
    found = {(r.via, r.question): check(r, expected[r.conversation, r.turn], "extractive") for r in results}
    problems = {key: why for key, why in found.items() if why}
    assert not problems, problems
    assert not search_failures, search_failures[:5]
    # The UI sessions were answered while the API ones were (not one after the other).
    ui_spans = [(r.start, r.end) for r in results if r.via == "ui"]
    api_spans = [(r.start, r.end) for r in results if r.via == "api"]
    assert any(a0 < u1 and u0 < a1 for u0, u1 in ui_spans for a0, a1 in api_spans)


def _ingest_process(settings: Settings, url: str, corpus: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "SCHOLIUM_PROGRESS": "false"}
    return subprocess.Popen(
        [sys.executable, "-m", "rag.cli", "ingest", "--json", "--no-progress",
         "--data-dir", str(settings.data_dir), "--chroma-url", url, str(corpus)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def _is_about(answer: Any, paper_id: str) -> bool:
    cited = [c.paper_id for c in answer.citations]
    first_source = answer.sources[0].paper_id if answer.sources else None
    return (bool(cited) and cited[0] == paper_id) or first_source == paper_id


def test_ingest_in_another_process_while_answering(
    chroma: ChromaServer, small_settings: Settings, real_papers: list[Paper], tmp_path: Path
) -> None:
    """Server mode: `scholium ingest` of 24 more papers runs in a subprocess while three threads
    ask about the first six through one Assistant. No question fails or gets another paper's
    answer, and afterwards the same Assistant finds the new papers, lexically too (it picks up
    the BM25 generation the other process published)."""
    base, extra = real_papers[:6], real_papers[6:30]
    settings = small_settings.with_overrides(chroma={"url": chroma.url})
    assistant = Assistant(settings)
    assert assistant.ingest().papers_new == 6
    for paper in base:  # warm-up, and the questions are sound to begin with
        assert _is_about(assistant.ask(f"What does {paper.title} propose?", mode="extractive"), paper.id)
    generation = assistant.stats()["generation"]

    outcomes: list[tuple[float, str]] = []
    lock = threading.Lock()
    stop = threading.Event()

    def asker(n: int) -> None:
        i = n
        while not stop.is_set():
            paper = base[i % len(base)]
            i += 1
            question = f"What does {paper.title} propose?"
            try:
                answer = assistant.ask(question, mode="extractive")
                if answer.question != question or not _is_about(answer, paper.id):
                    result = f"wrong answer to {question!r}: {[c.paper_id for c in answer.citations]}"
                else:
                    result = "ok"
            except Exception:
                result = traceback.format_exc(limit=-8)
            with lock:
                outcomes.append((time.monotonic(), result))

    threads = [threading.Thread(target=asker, args=(n,), daemon=True) for n in range(3)]
    for t in threads:
        t.start()
    time.sleep(1)
    started = time.monotonic()
    proc = _ingest_process(settings, chroma.url, write_listing(tmp_path / "extra.txt", extra))
    try:
        out, err = proc.communicate(timeout=600)
    finally:
        if proc.poll() is None:
            proc.kill()
    finished = time.monotonic()
    time.sleep(index_store.GENERATION_RECHECK_S + 1)  # questions keep coming after it, too
    stop.set()
    for t in threads:
        t.join(60)
    assert proc.returncode == 0, err[-3000:]
    assert json.loads(out)["papers_new"] == 24
    assert not any(t.is_alive() for t in threads), "a question hung"
    bad = [r for _, r in outcomes if r != "ok"]
    assert not bad, bad[:5]
    during = [r for when, r in outcomes if started < when < finished]
    assert len(during) >= 3, f"only {len(during)} answers while the ingest ran ({finished - started:.0f} s)"

    # The same Assistant sees the new papers: BM25 (the new generation), dense, and answers.
    for paper in extra[::6]:
        assert assistant.search(paper.title, k=1, mode="lexical")[0].paper_id == paper.id
        assert assistant.search(paper.title, k=1)[0].paper_id == paper.id
        assert _is_about(assistant.ask(f"What does {paper.title} propose?", mode="extractive"), paper.id)
    stats = assistant.stats()
    assert stats["papers"] == 30 and stats["generation"] != generation
    assert assistant.index.lexical.stamp == stats["generation"]
    assert len(assistant.index.lexical.chunk_ids()) == stats["chunks"]
